package configs

// SetDefaults fills every field left empty with its default. It leaves
// Provider.BaseURL empty: the provider package knows each type's public endpoint.
func (c *Config) SetDefaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = DefaultDatabaseURL
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Log.Level == "" {
		c.Log.Level = DefaultLogLevel
	}
	if c.Log.Format == "" {
		c.Log.Format = DefaultLogFormat
	}
	c.setAccountingDefaults()
	c.setObservabilityDefaults()
	for i := range c.Providers {
		c.Providers[i].setDefaults()
	}
	for i := range c.Models {
		c.Models[i].setDefaults()
	}
}

func (p *Provider) setDefaults() {
	for i := range p.Keys {
		if p.Keys[i].Weight == 0 {
			p.Keys[i].Weight = 1
		}
	}
}

func (m *Model) setDefaults() {
	if m.Strategy == "" {
		m.Strategy = StrategyWeighted
	}
	if m.Retries == nil {
		m.Retries = new(DefaultRetries)
	}
	for i := range m.Targets {
		t := &m.Targets[i]
		if t.Weight == 0 {
			t.Weight = 1
		}
		if t.Model == "" {
			t.Model = m.Name
		}
	}
}

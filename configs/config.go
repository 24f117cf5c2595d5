package configs

import "time"

// Defaults applied by SetDefaults.
const (
	// DefaultListen is the address tollgate listens on when nothing else is set.
	DefaultListen = "127.0.0.1:8080"
	// DefaultDatabaseURL is the embedded SQLite database in the working directory.
	DefaultDatabaseURL = "sqlite:./tollgate.db"
	// DefaultMaxBodyBytes is the largest request body accepted (10 MiB).
	DefaultMaxBodyBytes int64 = 10 << 20
	// DefaultRequestTimeout bounds a whole client request, every attempt included.
	DefaultRequestTimeout = Duration(10 * time.Minute)
	// DefaultShutdownTimeout bounds a graceful stop: draining requests and flushing spend.
	DefaultShutdownTimeout = Duration(30 * time.Second)
	// DefaultRetries is how many times a failed attempt is retried per model.
	DefaultRetries = 2
	// DefaultLogLevel is the slog level name used when log.level is empty.
	DefaultLogLevel = "info"
	// DefaultLogFormat is the log format used when log.format is empty.
	DefaultLogFormat = "json"
)

// Routing strategies a model may name.
const (
	StrategyWeighted     = "weighted"
	StrategyRoundRobin   = "round_robin"
	StrategyLeastLatency = "least_latency"
	StrategyLeastBusy    = "least_busy"
	StrategyLowestCost   = "lowest_cost"
	StrategyPriority     = "priority"
)

// Strategies lists every routing strategy, the default first.
func Strategies() []string {
	return []string{StrategyWeighted, StrategyRoundRobin, StrategyLeastLatency,
		StrategyLeastBusy, StrategyLowestCost, StrategyPriority}
}

// Config is tollgate's whole configuration. Build it with Load; a Config built by hand
// should go through SetDefaults and Validate before use.
type Config struct {
	// Listen is the host:port the gateway listens on (TOLLGATE_LISTEN).
	Listen string `yaml:"listen"`
	// DatabaseURL is a SQLite file path or sqlite: URL, or a postgres:// URL
	// (TOLLGATE_DATABASE_URL).
	DatabaseURL string `yaml:"database_url"`
	// RedisURL is optional; when set, limits, budgets and invalidation are shared
	// across replicas through Redis (TOLLGATE_REDIS_URL).
	RedisURL string `yaml:"redis_url"`
	// MaxBodyBytes is the largest request body accepted; larger bodies answer 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// RequestTimeout bounds a whole client request unless its model sets a timeout.
	RequestTimeout Duration `yaml:"request_timeout"`
	// ShutdownTimeout bounds a graceful stop: in-flight requests drain and the spend
	// log flushes within it.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// TrustedProxies are the IPs or CIDRs whose X-Forwarded-For is believed when
	// finding a client's address.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Log configures the process log.
	Log Log `yaml:"log"`
	// Routing tunes circuit breakers and the stream idle timeout of every model.
	Routing Routing `yaml:"routing"`
	// Limits configures rate limiting across replicas.
	Limits Limits `yaml:"limits"`
	// Billing configures budgets, the spend log and budget alerts.
	Billing Billing `yaml:"billing"`
	// Providers are the upstream deployments defined in config (read-only in the API).
	Providers []Provider `yaml:"providers"`
	// Models are the routes defined in config (read-only in the API).
	Models []Model `yaml:"models"`
	// Security configures how reports of leaked keys are verified.
	Security Security `yaml:"security"`
	// Export writes the request log and audit events to stdout, a file or a webhook.
	Export Export `yaml:"export"`
	// Detect configures the per-key anomaly detectors.
	Detect Detect `yaml:"detect"`

	// Demo starts the in-process fake provider; it comes from --demo, never YAML.
	Demo bool `yaml:"-"`
	// File is the path the config was read from, empty when there was none.
	File string `yaml:"-"`

	// origins maps a field path to where its value came from when that is not File.
	origins map[string]string
	// lines maps a field path to its line in File.
	lines map[string]int
}

// Log configures the process log.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is text or json.
	Format string `yaml:"format"`
}

// Provider is one upstream deployment: a dialect or catalog type, where to reach it
// and the keys to reach it with.
type Provider struct {
	// Name is the operator's name for this provider, referenced by model targets.
	Name string `yaml:"name"`
	// Type is a dialect ("openai", "anthropic", ...) or the catalog name of an
	// OpenAI-compatible provider ("groq", "mistral", ...).
	Type string `yaml:"type"`
	// BaseURL is what the provider's official SDK calls its base URL; empty means
	// the type's public endpoint.
	BaseURL string `yaml:"base_url"`
	// APIVersion is the dialect's API version where it has one (Azure, Anthropic).
	APIVersion string `yaml:"api_version"`
	// Region is the cloud region where the dialect needs one (Bedrock, Vertex).
	Region string `yaml:"region"`
	// Headers are extra headers sent upstream on every request; never credentials.
	Headers map[string]string `yaml:"headers"`
	// Keys are the provider's credentials, balanced by weight.
	Keys []ProviderKey `yaml:"keys"`
	// Timeout bounds one upstream attempt; 0 means only the request's deadline.
	Timeout Duration `yaml:"timeout"`
}

// ProviderKey is one upstream credential, referenced, never written in config.
type ProviderKey struct {
	// Secret is where the credential is read from: "env:NAME" or "file:PATH".
	Secret SecretRef `yaml:"secret"`
	// Label is a free-form name shown in listings.
	Label string `yaml:"label"`
	// Weight is this key's share of the provider's traffic; 0 means 1.
	Weight int `yaml:"weight"`
}

// Model is a route: the name clients ask for and the deployments that serve it.
type Model struct {
	// Name is the model name clients send.
	Name string `yaml:"name"`
	// Strategy picks among targets; see Strategies. Empty means weighted.
	Strategy string `yaml:"strategy"`
	// Targets are the deployments serving this model.
	Targets []Target `yaml:"targets"`
	// Fallbacks are other models tried, in order, when every target failed.
	Fallbacks []string `yaml:"fallbacks"`
	// Timeout bounds a whole request to this model; 0 means Config.RequestTimeout.
	Timeout Duration `yaml:"timeout"`
	// Retries is how many times a failed attempt is retried; nil means DefaultRetries.
	Retries *int `yaml:"retries"`
	// Pricing overrides the catalog price for every target of this model.
	Pricing *Pricing `yaml:"pricing"`
	// Limits is an optional gateway-wide rate limit on this model.
	Limits *RateLimits `yaml:"limits"`
}

// Target is one deployment of a model: a provider and the upstream model name.
type Target struct {
	// Provider names an entry of Config.Providers.
	Provider string `yaml:"provider"`
	// Model is the upstream model name; empty means the route's name.
	Model string `yaml:"model"`
	// Weight is this target's share for the weighted strategy; 0 means 1.
	Weight int `yaml:"weight"`
	// Priority orders targets for the priority strategy; lower goes first.
	Priority int `yaml:"priority"`
	// Pricing overrides the model's and the catalog's price for this target.
	Pricing *Pricing `yaml:"pricing"`
}

// Pricing is a price override in USD per million tokens. Values are decimal strings
// ("2.50"), kept as written and parsed by billing; empty means the catalog's price.
type Pricing struct {
	// InputPerMTok is the price of a million prompt tokens.
	InputPerMTok string `yaml:"input_per_mtok"`
	// OutputPerMTok is the price of a million completion tokens.
	OutputPerMTok string `yaml:"output_per_mtok"`
	// CachedInputPerMTok is the price of a million prompt tokens read from cache.
	CachedInputPerMTok string `yaml:"cached_input_per_mtok"`
	// CacheWritePerMTok is the price of a million prompt tokens written to cache.
	CacheWritePerMTok string `yaml:"cache_write_per_mtok"`
}

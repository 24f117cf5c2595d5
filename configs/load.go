package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"

	"gopkg.in/yaml.v3"
)

// Environment variables read by Load and ResolvePath.
const (
	EnvConfig      = "TOLLGATE_CONFIG"
	EnvListen      = "TOLLGATE_LISTEN"
	EnvDatabaseURL = "TOLLGATE_DATABASE_URL"
	EnvRedisURL    = "TOLLGATE_REDIS_URL"
)

// ResolvePath picks the config file: the --config flag when given, else
// TOLLGATE_CONFIG, else "" (no file: built-in defaults and detected providers).
func ResolvePath(flag string, getenv func(string) string) string {
	if flag != "" {
		return flag
	}
	if getenv == nil {
		return ""
	}
	return getenv(EnvConfig)
}

// LoadFromEnv loads the file named by flag, else by TOLLGATE_CONFIG, using the
// process environment.
func LoadFromEnv(flag string) (*Config, error) {
	return Load(ResolvePath(flag, os.Getenv))
}

// Load reads the config at path ("" for none) and applies the process environment,
// detection, defaults and validation; see the package documentation.
func Load(path string) (*Config, error) { return LoadWith(path, os.Getenv) }

// LoadWith is Load with the environment read through getenv (nil means os.Getenv),
// so that tests and tools never depend on the real environment.
func LoadWith(path string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := &Config{File: path}
	if path != "" {
		if err := c.decodeFile(); err != nil {
			return nil, err
		}
	}
	c.applyEnv(getenv)
	if len(c.Providers) == 0 {
		c.addDetected(getenv)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// decodeFile reads c.File into c.
func (c *Config) decodeFile() error {
	data, err := os.ReadFile(c.File)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	return c.decode(data)
}

// decode reads one YAML document into c. The tree is first checked against the
// types (unknown fields, shapes, values) so errors name paths and lines; the strict
// decoder then fills c.
func (c *Config) decode(data []byte) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil
	} else if err != nil {
		return fmt.Errorf("%s: %w", c.File, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: only one YAML document is allowed", c.File)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	w := &shapeChecker{file: c.File, lines: make(map[string]int)}
	w.walk(doc.Content[0], reflect.TypeFor[Config](), "")
	if len(w.errs) > 0 {
		return errors.Join(w.errs...)
	}
	c.lines = w.lines

	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(c); err != nil {
		return fmt.Errorf("%s: %w", c.File, err)
	}
	return nil
}

// applyEnv lets TOLLGATE_* variables override the file.
func (c *Config) applyEnv(getenv func(string) string) {
	for _, o := range []struct {
		env, path string
		dst       *string
	}{
		{EnvListen, "listen", &c.Listen},
		{EnvDatabaseURL, "database_url", &c.DatabaseURL},
		{EnvRedisURL, "redis_url", &c.RedisURL},
	} {
		if v := getenv(o.env); v != "" {
			*o.dst = v
			c.setOrigin(o.path, sourceEnvironment+" ("+o.env+")")
		}
	}
}

// addDetected adds the providers found in the environment and their models, except
// models the file already defines.
func (c *Config) addDetected(getenv func(string) string) {
	provs, models := DetectProviders(getenv)
	for _, p := range provs {
		c.setOrigin(fmt.Sprintf("providers[%d]", len(c.Providers)), sourceEnvironment)
		c.Providers = append(c.Providers, p)
	}
	defined := make(map[string]bool, len(c.Models))
	for _, m := range c.Models {
		defined[m.Name] = true
	}
	for _, m := range models {
		if defined[m.Name] {
			continue
		}
		c.setOrigin(fmt.Sprintf("models[%d]", len(c.Models)), sourceEnvironment)
		c.Models = append(c.Models, m)
	}
}

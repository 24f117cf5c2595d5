package configs

import (
	"fmt"
	"strings"
)

// FieldError is one problem with one configuration field. Load and Validate return
// them joined with errors.Join; find them with errors.As or by unwrapping.
type FieldError struct {
	// Source is where the value came from: the config file's path, "environment"
	// (with the variable, when known) or "defaults".
	Source string
	// Line is the value's line in the file, or 0.
	Line int
	// Path is the field, like "models[1].targets[0].provider".
	Path string
	// Msg says what is wrong and, where it helps, what to write instead. It never
	// contains a secret.
	Msg string
}

// Error formats the problem as "source:line: path: message".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Where config values come from when not from the file.
const (
	sourceEnvironment = "environment"
	sourceDefaults    = "defaults"
)

// setOrigin records that the value at path came from origin rather than the file.
func (c *Config) setOrigin(path, origin string) {
	if c.origins == nil {
		c.origins = make(map[string]string)
	}
	c.origins[path] = origin
}

// parentPath strips the last ".field" or "[i]" from path.
func parentPath(path string) (string, bool) {
	i := strings.LastIndexAny(path, ".[")
	if i <= 0 {
		return "", false
	}
	return path[:i], true
}

// locate returns where the value at path came from and its line in the file.
func (c *Config) locate(path string) (source string, line int) {
	for p, ok := path, true; ok; p, ok = parentPath(p) {
		if o, found := c.origins[p]; found {
			return o, 0
		}
	}
	if c.File == "" {
		return sourceDefaults, 0
	}
	for p, ok := path, true; ok; p, ok = parentPath(p) {
		if l, found := c.lines[p]; found {
			return c.File, l
		}
	}
	return c.File, 0
}

// fromFile reports whether the value at path was read from the config file.
func (c *Config) fromFile(path string) bool {
	src, _ := c.locate(path)
	return c.File != "" && src == c.File
}

// fieldError builds a FieldError located at path.
func (c *Config) fieldError(path, format string, args ...any) *FieldError {
	src, line := c.locate(path)
	return &FieldError{Source: src, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)}
}

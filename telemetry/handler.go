package telemetry

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
)

// redactingHandler passes everything through Redact before its inner handler sees it.
type redactingHandler struct {
	inner slog.Handler
}

var _ slog.Handler = redactingHandler{}

// NewRedactingHandler wraps h so that nothing reaches it unredacted: the message, every
// attribute key and value (strings, errors, byte slices, groups at any depth, whatever
// a LogValuer resolves to, and any other value whose JSON or printed form holds a
// secret), and the attributes and group names given to WithAttrs and WithGroup. Since
// it sits under every logger made from it, no code path can go around it. It is the
// backstop behind secret types that redact themselves (schema.Secret).
func NewRedactingHandler(h slog.Handler) slog.Handler {
	if r, ok := h.(redactingHandler); ok {
		return r
	}
	return redactingHandler{inner: h}
}

// Enabled reports whether the inner handler handles level.
func (h redactingHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle redacts the record and hands it on. A record of plain values with nothing
// that may be a secret (the usual case) is handed on as it is.
func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	if !recordMayHoldSecret(r) {
		return h.inner.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

// WithAttrs redacts attrs once, here, rather than on every record.
func (h redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = redactAttr(a)
	}
	return redactingHandler{inner: h.inner.WithAttrs(red)}
}

// WithGroup redacts the group's name, which code may build from data.
func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{inner: h.inner.WithGroup(Redact(name))}
}

// recordMayHoldSecret reports whether anything in r needs a closer look: a string that
// may be a secret, or a value that is not plain (any, a LogValuer, a group holding one).
func recordMayHoldSecret(r slog.Record) bool {
	found := mayHoldSecret(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		found = found || attrMayHoldSecret(a)
		return !found
	})
	return found
}

func attrMayHoldSecret(a slog.Attr) bool {
	if mayHoldSecret(a.Key) {
		return true
	}
	switch a.Value.Kind() {
	case slog.KindString:
		return mayHoldSecret(a.Value.String())
	case slog.KindGroup:
		for _, g := range a.Value.Group() {
			if attrMayHoldSecret(g) {
				return true
			}
		}
		return false
	case slog.KindAny, slog.KindLogValuer:
		return true
	}
	return false
}

// redactAttr returns a with its key and value redacted; LogValuers are resolved first,
// so that what they stand for is checked too.
func redactAttr(a slog.Attr) slog.Attr {
	a.Key = Redact(a.Key)
	a.Value = redactValue(a.Value.Resolve())
	return a
}

func redactValue(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); mayHoldSecret(s) {
			return slog.StringValue(Redact(s))
		}
	case slog.KindGroup:
		as := v.Group()
		red := make([]slog.Attr, len(as))
		for i, a := range as {
			red[i] = redactAttr(a)
		}
		return slog.GroupValue(red...)
	case slog.KindAny:
		return redactAny(v)
	}
	return v
}

// redactAny checks a value of any other type in both of the forms the standard
// handlers may write it in (JSON, and fmt's %+v, which also prints unexported fields);
// when either holds a secret, the value becomes its redacted text.
func redactAny(v slog.Value) slog.Value {
	switch x := v.Any().(type) {
	case error:
		return slog.StringValue(Redact(x.Error()))
	case []byte:
		return slog.StringValue(Redact(string(x)))
	case nil:
		return v
	}
	text := fmt.Sprintf("%+v", v.Any())
	if HasSecret(text) {
		return slog.StringValue(Redact(text))
	}
	if b, err := json.Marshal(v.Any()); err == nil && HasSecret(string(b)) {
		return slog.StringValue(Redact(string(b)))
	}
	return v
}

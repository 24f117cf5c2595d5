package telemetry

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRedactRemovesEverySecretShape(t *testing.T) {
	secrets := []string{
		"tgk_AbCdEfGhIjKl_0123456789abcdefghijABCDEFGHIJ01234567",
		"tga_AbCdEfGhIjKl_0123456789abcdefghijABCDEFGHIJ01234567",
		"sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD",
		"sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789",
		"sk-abcdefghijklmnopqrstuvwxyz012345",
		"AIzaSyA1234567890abcdefghijklmnopqrstuv",
		"AKIAIOSFODNN7EXAMPLE",
		"gsk_abcdefghijklmnopqrstuvwxyz",
		"xai-abcdefghijklmnopqrstuvwxyz",
	}
	for _, s := range secrets {
		if got := Redact("upstream said: bad key " + s + " (retry)"); strings.Contains(got, s) {
			t.Errorf("not redacted: %s", got)
		}
	}
	if got := Redact("Authorization: Bearer abcdef0123456789abcdef"); strings.Contains(got, "abcdef0123456789abcdef") {
		t.Errorf("bearer not redacted: %s", got)
	}
	if plain := "model gpt-4o_mini answered 200 in 12ms"; Redact(plain) != plain {
		t.Errorf("ordinary text changed: %s", Redact(plain))
	}
}

func TestLoggerRedactsStringsAndErrors(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, ParseLevel("info"))
	key := "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"
	log.Info("calling upstream", "detail", "key="+key, "error", errors.New("401 for "+key))
	if strings.Contains(buf.String(), key) {
		t.Fatalf("the log holds the key: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "[REDACTED]") {
		t.Fatalf("no redaction marker: %s", buf.String())
	}
}

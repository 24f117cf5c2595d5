package admin

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/apierr"
	"github.com/tollgate-llm/tollgate/store"
)

func TestHint(t *testing.T) {
	tests := []struct{ secret, want string }{
		{"sk-proj-abcdefghijklmnopqrstuvwxyz0123456789", "sk-proj-…6789"},
		{"sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123", "sk-ant-…0123"},
		{"gsk_abcdefghijklmnopqrstuvwxyz0123456789", "gsk_…6789"},
		{"AIzaSyAbcdefghijklmnopqrstuvwxyz012345", "…2345"},
		{"sk-abcdefghijklmnop", "sk-…mnop"},
		{"short-key-12345", "…"},
		{"", "…"},
	}
	for _, tt := range tests {
		if got := Hint(tt.secret); got != tt.want {
			t.Errorf("Hint(%q) = %q, want %q", tt.secret, got, tt.want)
		}
	}
}

func TestValidateProvider(t *testing.T) {
	tests := []struct {
		p     store.Provider
		field string // "" means valid
	}{
		{store.Provider{Name: "openai-2", Type: "openai", BaseURL: "https://api.openai.com/v1"}, ""},
		{store.Provider{Name: "groq", Type: "groq", Headers: map[string]string{"X-Title": "x"}}, ""},
		{store.Provider{Name: "bad name", Type: "openai"}, "name"},
		{store.Provider{Name: "p", Type: ""}, "type"},
		{store.Provider{Name: "p", Type: "nope"}, "type"},
		{store.Provider{Name: "p", Type: "openai", BaseURL: "ftp://x"}, "base_url"},
		{store.Provider{Name: "p", Type: "openai", BaseURL: "https://user:pw@x/v1"}, "base_url"},
		{store.Provider{Name: "p", Type: "openai", Headers: map[string]string{"Authorization": "Bearer x"}}, "headers"},
		{store.Provider{Name: "p", Type: "openai", Headers: map[string]string{"x-API-key": "k"}}, "headers"},
	}
	for _, tt := range tests {
		err := validateProvider(&tt.p)
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%+v: %v", tt.p, err)
		case tt.field != "" && (err == nil || apierr.From(err).Param != tt.field || apierr.From(err).Status != 400):
			t.Errorf("%+v: got %v, want a 400 about %s", tt.p, err, tt.field)
		}
	}
}

func TestEffectiveStatus(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Minute), now.Add(-time.Minute)
	tests := []struct {
		k    store.ProviderKey
		want string
	}{
		{store.ProviderKey{Status: KeyActive}, KeyActive},
		{store.ProviderKey{Status: KeyDisabled}, KeyDisabled},
		{store.ProviderKey{Status: KeyDraining, DrainUntil: &later}, KeyDraining},
		{store.ProviderKey{Status: KeyDraining, DrainUntil: &now}, KeyDisabled},
		{store.ProviderKey{Status: KeyDraining, DrainUntil: &earlier}, KeyDisabled},
	}
	for _, tt := range tests {
		if got := EffectiveStatus(&tt.k, now); got != tt.want {
			t.Errorf("%s until %v: %s, want %s", tt.k.Status, tt.k.DrainUntil, got, tt.want)
		}
	}
}

func TestSecretInputNeverShowsItsValue(t *testing.T) {
	const secret = "sk-proj-doNotShow0123456789"
	var req KeyRequest
	if err := json.Unmarshal([]byte(`{"secret":"`+secret+`","label":"x"}`), &req); err != nil {
		t.Fatal(err)
	}
	if req.Secret.Reveal() != secret {
		t.Fatal("the secret was not read")
	}
	out, _ := json.Marshal(req)
	for _, s := range []string{fmt.Sprint(req), fmt.Sprintf("%+v", req), fmt.Sprintf("%#v", req), string(out)} {
		if strings.Contains(s, secret) {
			t.Fatalf("the request shows its secret: %s", s)
		}
	}
	if err := json.Unmarshal([]byte(`{"secret":42}`), &req); err == nil {
		t.Fatal("a number was accepted as a secret")
	}
}

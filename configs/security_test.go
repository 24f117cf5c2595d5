package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testPEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYAGMWO8XgCamYKMJS6jc/qgvSlAd
AjPuDPRcXU22YxgBrz+zoN19MzuRyW87qEt9/AmtoNP5GrobzUvQSyJFVw==
-----END PUBLIC KEY-----
`

func TestTokenAlertKeys(t *testing.T) {
	pemFile := filepath.Join(t.TempDir(), "github.pem")
	if err := os.WriteFile(pemFile, []byte(testPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	body := `security:
  token_alert_keys:
    - id: inline
      pem: |
` + indent(testPEM, "        ") + `    - id: fromfile
      pem: file:` + pemFile + `
    - id: inline
      pem: not a key
    - pem: "file:"
`
	_, err := LoadWith(writeConfig(t, body), fakeEnv(nil))
	for path, want := range map[string]string{
		"security.token_alert_keys[2].id":  "duplicate",
		"security.token_alert_keys[2].pem": "PEM public key",
		"security.token_alert_keys[3].id":  "is required",
		"security.token_alert_keys[3].pem": "followed by a path",
	} {
		if fe := findField(err, path); fe == nil || !strings.Contains(fe.Msg, want) || fe.Line == 0 {
			t.Errorf("%s: %v, want %q with a line", path, fe, want)
		}
	}
	if n := len(fieldErrors(err)); n != 4 {
		t.Errorf("%d errors: %v", n, err)
	}

	c, err := LoadWith(writeConfig(t, strings.SplitAfter(body, "file:"+pemFile+"\n")[0]), fakeEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range c.Security.TokenAlertKeys {
		data, err := k.Read()
		if err != nil || string(data) != testPEM {
			t.Errorf("%s: read %q, %v", k.ID, data, err)
		}
	}
	if _, err := (TokenAlertKey{ID: "gone", PEM: "file:" + pemFile + ".missing"}).Read(); err == nil {
		t.Error("a missing file was read")
	}
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

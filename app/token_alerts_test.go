package app_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/keys"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

const alertKeyID = "90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a"

// alertSigner signs token alerts the way GitHub does.
type alertSigner struct {
	key *ecdsa.PrivateKey
}

func newAlertSigner(t *testing.T) *alertSigner {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &alertSigner{key: k}
}

func (s *alertSigner) pem(t *testing.T) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func (s *alertSigner) sign(t *testing.T, body string) string {
	t.Helper()
	digest := sha256.Sum256([]byte(body))
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// startAlertGateway runs a gateway that trusts signer's key under alertKeyID.
func startAlertGateway(t *testing.T, engine string, signer *alertSigner) *gateway {
	return startGateway(t, engine, func(c *configs.Config) {
		c.Security.TokenAlertKeys = []configs.TokenAlertKey{{ID: alertKeyID, PEM: signer.pem(t)}}
	})
}

// alertBody is a report of tokens found at url.
func alertBody(url string, tokens ...string) string {
	var items []string
	for _, tok := range tokens {
		b, _ := json.Marshal(map[string]string{"token": tok, "type": "tollgate_client_key", "url": url, "source": "content"})
		items = append(items, string(b))
	}
	return "[" + strings.Join(items, ",") + "]"
}

// sendAlert posts a report with the given headers, with no admin token.
func sendAlert(t *testing.T, g *gateway, body, keyID, sig string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", g.URL+"/admin/v1/security/token-alerts", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if keyID != "" {
		req.Header.Set("GITHUB-PUBLIC-KEY-IDENTIFIER", keyID)
	}
	if sig != "" {
		req.Header.Set("GITHUB-PUBLIC-KEY-SIGNATURE", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// modelsWith calls GET /v1/models with key and returns the status and error code.
func modelsWith(t *testing.T, g *gateway, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", g.URL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 {
		return 200, ""
	}
	return resp.StatusCode, decodeError(t, data)
}

// newKey creates a client key that may mint, and an ephemeral child of it.
func newKey(t *testing.T, g *gateway, name string) (key, id, child string) {
	t.Helper()
	var k struct{ ID, Key string }
	g.admin(t, "POST", "/keys", `{"name":"`+name+`","can_mint":true}`, 201, &k)
	saved := g.Key
	g.Key = k.Key
	resp := g.post(t, "/v1/keys/ephemeral", `{"ttl":"10m"}`, nil)
	g.Key = saved
	defer resp.Body.Close()
	var m struct{ Key string }
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || m.Key == "" {
		t.Fatalf("mint: %d %v", resp.StatusCode, err)
	}
	return k.Key, k.ID, m.Key
}

func auditOf(t *testing.T, g *gateway, action string) []audit.Entry {
	t.Helper()
	var page audit.Page
	g.admin(t, "GET", "/audit?limit=1000&action="+action, "", 200, &page)
	return page.Data
}

// TestTokenAlertRevokesWithinTheRequest reports a leaked key, an unknown key, a key id
// with the wrong secret and garbage in one signed report. The leaked key and its child
// stop working as the answer arrives; the others are false positives and change
// nothing; the audit log holds the report without any secret; replaying the report
// revokes nothing twice.
func TestTokenAlertRevokesWithinTheRequest(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			signer := newAlertSigner(t)
			g := startAlertGateway(t, engine, signer)
			leaked, id, child := newKey(t, g, "leaky")
			unknown, _, _ := keys.Generate(keys.KindClient)
			wrong, _ := keys.Regenerate(keys.KindClient, g.Key[4:16]) // the bystander's id, another secret
			tokens := []string{leaked, unknown, wrong, "not-a-key"}
			url := "https://github.com/octo/app/blob/0123abc/.env"
			body := alertBody(url, tokens...)
			sig := signer.sign(t, body)

			status, data := sendAlert(t, g, body, alertKeyID, sig)
			if status != 200 {
				t.Fatalf("report: %d %s", status, data)
			}
			var res []admin.TokenAlertResult
			if err := json.Unmarshal(data, &res); err != nil || len(res) != len(tokens) {
				t.Fatalf("answer %s", data)
			}
			for i, want := range []string{"true_positive", "false_positive", "false_positive", "false_positive"} {
				sum := sha256.Sum256([]byte(tokens[i]))
				if res[i].Label != want || res[i].TokenHash != hex.EncodeToString(sum[:]) || res[i].TokenType != "tollgate_client_key" {
					t.Errorf("token %d: %+v, want %s", i, res[i], want)
				}
			}
			for name, key := range map[string]string{"leaked": leaked, "child": child} {
				if status, code := modelsWith(t, g, key); status != 401 || code != "revoked_api_key" {
					t.Errorf("%s key after the report: %d %s", name, status, code)
				}
			}
			if status, _ := modelsWith(t, g, g.Key); status != 200 {
				t.Errorf("the key whose id was reported with a wrong secret answers %d", status)
			}
			var kv struct {
				Status       string
				RevokeReason string `json:"revoke_reason"`
			}
			g.admin(t, "GET", "/keys/"+id, "", 200, &kv)
			if kv.Status != "revoked" || kv.RevokeReason != "leaked: reported by GitHub secret scanning at "+url {
				t.Errorf("the leaked key is %+v", kv)
			}

			if status, data := sendAlert(t, g, body, alertKeyID, sig); status != 200 || !strings.Contains(string(data), "true_positive") {
				t.Fatalf("replay: %d %s", status, data)
			}
			checkLeakAudit(t, g, id, url, tokens)
		})
	}
}

// checkLeakAudit expects one revocation of id by secret scanning, two reports of it
// (revoked, then already inactive), and no secret anywhere in the audit log or logs.
func checkLeakAudit(t *testing.T, g *gateway, id, url string, secrets []string) {
	t.Helper()
	var revokes []audit.Entry
	for _, e := range auditOf(t, g, "key.revoke") {
		if e.Target == "key:"+id {
			revokes = append(revokes, e)
		}
	}
	if len(revokes) != 1 || revokes[0].ActorID != "github-secret-scanning" || revokes[0].SourceIP == "" {
		t.Errorf("key.revoke events: %+v", revokes)
	}
	reports := auditOf(t, g, "key.leak_reported")
	if len(reports) != 2 {
		t.Fatalf("%d key.leak_reported events", len(reports))
	}
	for i, want := range []string{"already_inactive", "revoked"} { // newest first
		d := reports[i].Details
		if reports[i].Target != "key:"+id || d["outcome"] != want || d["url"] != url || d["source"] != "content" {
			t.Errorf("report %d: %+v", i, reports[i])
		}
	}
	var all audit.Page
	g.admin(t, "GET", "/audit?limit=1000", "", 200, &all)
	dump, _ := json.Marshal(all)
	logs := g.Logs.String()
	for _, s := range secrets {
		if len(s) == keys.KeyLen && (strings.Contains(string(dump), s[17:]) || strings.Contains(logs, s[17:])) {
			t.Errorf("a reported secret is in the audit log or the logs (%.17s…)", s)
		}
	}
}

// TestTokenAlertRejectsUnsignedReports sends a report with a bad, missing, foreign or
// unknown signature, or a body changed after signing: each answers 401, revokes
// nothing, and is audited as a refused authentication.
func TestTokenAlertRejectsUnsignedReports(t *testing.T) {
	signer, stranger := newAlertSigner(t), newAlertSigner(t)
	g := startAlertGateway(t, "sqlite", signer)
	leaked, _, child := newKey(t, g, "leaky")
	body := alertBody("https://github.com/o/r", leaked)
	tampered := strings.Replace(body, "github.com/o/r", "github.com/o/s", 1)
	for _, tc := range []struct{ name, body, keyID, sig string }{
		{"no headers", body, "", ""},
		{"no signature", body, alertKeyID, ""},
		{"not base64", body, alertKeyID, "%%%"},
		{"signature of another body", body, alertKeyID, signer.sign(t, "[]")},
		{"signed by another key", body, alertKeyID, stranger.sign(t, body)},
		{"unknown key id", body, "f9525bf080f75b3506ca1ead061add62b8633a346606dc5fe544e29231c6ee0d", signer.sign(t, body)},
		{"tampered body", tampered, alertKeyID, signer.sign(t, body)},
	} {
		status, data := sendAlert(t, g, tc.body, tc.keyID, tc.sig)
		if status != 401 || decodeError(t, data) != "invalid_signature" {
			t.Errorf("%s: %d %s", tc.name, status, data)
		}
	}
	for name, key := range map[string]string{"leaked": leaked, "child": child} {
		if status, code := modelsWith(t, g, key); status != 200 {
			t.Errorf("%s key after refused reports: %d %s", name, status, code)
		}
	}
	if n := len(auditOf(t, g, "key.leak_reported")) + len(auditOf(t, g, "key.revoke")); n != 0 {
		t.Errorf("%d revocation or report events after refused reports", n)
	}
	refused := 0
	for _, e := range auditOf(t, g, "admin.auth_failed") {
		if e.Details["reason"] == "invalid_token_alert_signature" {
			refused++
		}
	}
	if refused != 7 {
		t.Errorf("%d refusals audited, want 7", refused)
	}
}

// TestTokenAlertDeletesALeakedAdminToken reports a stored admin token: it stops
// working at once.
func TestTokenAlertDeletesALeakedAdminToken(t *testing.T) {
	signer := newAlertSigner(t)
	g := startAlertGateway(t, "sqlite", signer)
	var tok struct{ ID, Token string }
	g.admin(t, "POST", "/admin-tokens", `{"name":"ci","role":"viewer"}`, 201, &tok)
	body := alertBody("https://gist.github.com/o/1", tok.Token)
	if status, data := sendAlert(t, g, body, alertKeyID, signer.sign(t, body)); status != 200 ||
		!strings.Contains(string(data), "true_positive") {
		t.Fatalf("report: %d %s", status, data)
	}
	req, _ := http.NewRequest("GET", g.URL+"/admin/v1/keys", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("the reported admin token answers %d", resp.StatusCode)
	}
}

// TestTokenAlertRouteNeedsKeys checks that without configured keys the endpoint does
// not exist.
func TestTokenAlertRouteNeedsKeys(t *testing.T) {
	g := startGateway(t, "sqlite", nil)
	if status, data := sendAlert(t, g, "[]", alertKeyID, "MEQCIA=="); status != 404 {
		t.Errorf("without keys: %d %s", status, data)
	}
}

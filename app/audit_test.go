package app_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// lastAudit returns the newest audit entry, or a zero entry for an empty log.
func lastAudit(t *testing.T, g *gateway) audit.Entry {
	t.Helper()
	var page audit.Page
	g.admin(t, "GET", "/audit?limit=1", "", 200, &page)
	if len(page.Data) == 0 {
		return audit.Entry{}
	}
	return page.Data[0]
}

// TestEveryProviderAndVaultCallIsAuditedOnce calls every provider, vault and audit
// endpoint and counts the audit rows each one writes: one for every change, with the
// caller as actor, none for a read or a refused change.
func TestEveryProviderAndVaultCallIsAuditedOnce(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g, base := startWithBase(t, engine)
			var keyID, newKeyID string
			steps := []struct {
				method, path, body string
				status             int
				action             string // "" means no audit row
				out                any    // nil, or *admin.KeyView
			}{
				{"POST", "/providers", fmt.Sprintf(`{"name":"p1","type":"openai","base_url":%q}`, base), 201, "provider.create", nil},
				{"GET", "/providers", "", 200, "", nil},
				{"GET", "/providers/p1", "", 200, "", nil},
				{"PATCH", "/providers/p1", `{"headers":{"X-Team":"ml"}}`, 200, "provider.update", nil},
				{"POST", "/providers/p1/keys", `{"secret":"` + storedKeys[0] + `","label":"main"}`, 201, "provider_key.add", &admin.KeyView{}},
				{"GET", "/providers/p1/keys", "", 200, "", nil},
				{"PATCH", "/providers/p1/keys/{id}", `{"weight":3}`, 200, "provider_key.update", nil},
				{"POST", "/providers/p1/keys/{id}/rotate", `{"secret":"` + storedKeys[1] + `","grace":"0s"}`, 201, "provider_key.rotate", &admin.KeyView{}},
				{"DELETE", "/providers/p1/keys/{new}", "", 200, "provider_key.delete", nil},
				{"GET", "/vault/status", "", 200, "", nil},
				{"POST", "/vault/rotate", "{}", 200, "vault.rotate", nil},
				{"GET", "/audit", "", 200, "", nil},
				{"GET", "/audit/verify", "", 200, "", nil},
				{"DELETE", "/providers/p1", "", 200, "provider.delete", nil},
				// Refused changes leave no row: a config provider, an unknown one, a bad body.
				{"PATCH", "/providers/fake", `{"region":"x"}`, 409, "", nil},
				{"POST", "/providers/fake/keys", `{"secret":"sk-x"}`, 409, "", nil},
				{"DELETE", "/providers/nope", "", 404, "", nil},
				{"POST", "/providers", `{"name":"bad","type":"nope"}`, 400, "", nil},
			}
			for _, st := range steps {
				path := strings.ReplaceAll(strings.ReplaceAll(st.path, "{id}", keyID), "{new}", newKeyID)
				before := lastAudit(t, g)
				g.admin(t, st.method, path, st.body, st.status, st.out)
				after := lastAudit(t, g)
				wantRows := int64(0)
				if st.action != "" {
					wantRows = 1
				}
				if after.Seq-before.Seq != wantRows {
					t.Fatalf("%s %s wrote %d audit rows, want %d", st.method, path, after.Seq-before.Seq, wantRows)
				}
				if st.action != "" && (after.Action != st.action || after.ActorID != "bootstrap" || after.SourceIP == "" || after.RequestID == "") {
					t.Fatalf("%s %s: audit entry %+v, want action %s by bootstrap with ip and request id", st.method, path, after, st.action)
				}
				switch kv, _ := st.out.(*admin.KeyView); {
				case kv != nil && keyID == "":
					keyID = kv.ID
				case kv != nil:
					newKeyID = kv.ID
				}
			}
			var page audit.Page
			g.admin(t, "GET", "/audit?action=provider_key.*&limit=1000", "", 200, &page)
			if len(page.Data) != 4 {
				t.Fatalf("provider_key.* lists %d events", len(page.Data))
			}
			for _, e := range page.Data {
				if e.Details["fingerprint"] == nil && e.Action != "provider_key.update" {
					t.Errorf("%s has no fingerprint: %v", e.Action, e.Details)
				}
			}
			checkNoSecretsInLogs(t, g)
		})
	}
}

// TestAuditVerifyNamesTheTamperedRow edits, deletes and reorders rows with SQL behind
// the gateway's back and asks GET /audit/verify which row broke.
func TestAuditVerifyNamesTheTamperedRow(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g, base := startWithBase(t, engine)
			for i := range 3 {
				addStoredProvider(t, g, fmt.Sprintf("p%d", i), base, storedKeys[i])
			}
			db, err := store.Open(context.Background(), g.DB)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			exec := func(q string) {
				if _, err := db.SQL().ExecContext(context.Background(), q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			tests := []struct {
				name            string
				tamper, restore []string
				seq             int64
				problem         string
			}{
				{"edited", []string{`UPDATE audit_log SET actor_id = 'someone-else' WHERE seq = 3`},
					[]string{`UPDATE audit_log SET actor_id = 'bootstrap' WHERE seq = 3`}, 3, audit.ProblemEdited},
				{"deleted", []string{`CREATE TABLE audit_saved AS SELECT * FROM audit_log WHERE seq = 4`, `DELETE FROM audit_log WHERE seq = 4`},
					[]string{`INSERT INTO audit_log SELECT * FROM audit_saved`, `DROP TABLE audit_saved`}, 4, audit.ProblemMissing},
				{"reordered", []string{`UPDATE audit_log SET seq = 1000 WHERE seq = 2`, `UPDATE audit_log SET seq = 2 WHERE seq = 5`,
					`UPDATE audit_log SET seq = 5 WHERE seq = 1000`},
					[]string{`UPDATE audit_log SET seq = 1000 WHERE seq = 2`, `UPDATE audit_log SET seq = 2 WHERE seq = 5`,
						`UPDATE audit_log SET seq = 5 WHERE seq = 1000`}, 2, audit.ProblemEdited},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					for _, q := range tt.tamper {
						exec(q)
					}
					var res audit.Result
					g.admin(t, "GET", "/audit/verify", "", 200, &res)
					if res.OK || res.Broken == nil || res.Broken.Seq != tt.seq || res.Broken.Problem != tt.problem {
						t.Fatalf("verify: %+v %+v, want row %d %s", res, res.Broken, tt.seq, tt.problem)
					}
					for _, q := range tt.restore {
						exec(q)
					}
					g.admin(t, "GET", "/audit/verify", "", 200, &res)
					if !res.OK {
						t.Fatalf("restored chain does not verify: %+v", res.Broken)
					}
				})
			}
		})
	}
}

// TestProviderKeysShowOnlyFingerprintAndHint lists stored provider keys and checks that
// no answer holds a secret, and that each key has a hint and a fingerprint.
func TestProviderKeysShowOnlyFingerprintAndHint(t *testing.T) {
	g, base := startWithBase(t, "sqlite")
	added := addStoredProvider(t, g, "stored", base, storedKeys...)
	var list struct{ Data []admin.KeyView }
	g.admin(t, "GET", "/providers/stored/keys", "", 200, &list)
	wantHints := []string{"sk-proj-…klmn", "sk-ant-…ghij", "gsk_…mnop"}
	fp := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for i, k := range list.Data {
		if k.ID != added[i].ID || k.Hint != wantHints[i] || !fp.MatchString(k.Fingerprint) || k.Status != "active" || k.Source != "api" {
			t.Errorf("key %d: %+v", i, k)
		}
	}
	for _, path := range []string{"/providers/stored/keys", "/providers/stored", "/providers", "/audit?limit=1000"} {
		var raw any
		g.admin(t, "GET", path, "", 200, &raw)
		text := fmt.Sprint(raw)
		for _, s := range storedKeys {
			if strings.Contains(text, s) || strings.Contains(text, s[len(s)-12:]) {
				t.Errorf("GET %s shows a provider key", path)
			}
		}
	}
	var cfgKeys struct{ Data []admin.KeyView }
	g.admin(t, "GET", "/providers/fake/keys", "", 200, &cfgKeys)
	if len(cfgKeys.Data) != 1 || cfgKeys.Data[0].Source != "config" || cfgKeys.Data[0].SecretRef != "env:FAKE_OPENAI_KEY" {
		t.Errorf("config provider keys: %+v", cfgKeys.Data)
	}
	checkNoSecretsInLogs(t, g)
}

// TestAChangeFailsWhenItsAuditRowCannotBeWritten takes the audit table away: provider
// changes and vault rotations are refused with 503 and leave nothing behind.
func TestAChangeFailsWhenItsAuditRowCannotBeWritten(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g, base := startWithBase(t, engine)
			db, err := store.Open(context.Background(), g.DB)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			before := vaultStatus(t, g)
			if _, err := db.SQL().ExecContext(context.Background(), `ALTER TABLE audit_log RENAME TO audit_log_away`); err != nil {
				t.Fatal(err)
			}
			g.admin(t, "POST", "/providers", fmt.Sprintf(`{"name":"unaudited","type":"openai","base_url":%q}`, base), 503, nil)
			g.admin(t, "POST", "/vault/rotate", "{}", 503, nil)
			if _, err := db.SQL().ExecContext(context.Background(), `ALTER TABLE audit_log_away RENAME TO audit_log`); err != nil {
				t.Fatal(err)
			}
			g.admin(t, "GET", "/providers/unaudited", "", 404, nil)
			if after := vaultStatus(t, g); after.CurrentKEK != before.CurrentKEK || len(after.KEKs) != len(before.KEKs) {
				t.Fatalf("a rotation happened without its audit row: %s → %s", before.CurrentKEK, after.CurrentKEK)
			}
		})
	}
}

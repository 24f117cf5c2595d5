package app_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/audit"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// chatModel sends one chat request for model and returns the status and the upstream
// model that served it.
func chatModel(t *testing.T, g *gateway, model string) (int, string) {
	t.Helper()
	resp := g.post(t, "/v1/chat/completions", `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`, nil)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("x-tollgate-model")
}

// adminRaw calls the admin API, expecting status, and returns the body.
func adminRaw(t *testing.T, g *gateway, method, path, body string, status int) string {
	t.Helper()
	var raw json.RawMessage
	g.admin(t, method, path, body, status, &raw)
	return string(raw)
}

// TestModelsAdminAPI creates, reads, changes and deletes models through the admin API
// on both stores, and checks every change routes at once, without a restart.
func TestModelsAdminAPI(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g := startGateway(t, engine, func(c *configs.Config) { c.File = "/etc/tollgate/tollgate.yaml" })
			var v admin.ModelView
			g.admin(t, "POST", "/models", `{"name":"team/chat","strategy":"round_robin","targets":[{"provider":"fake","model":"gpt-4o"}],`+
				`"fallbacks":["gpt-4o-mini"],"timeout":"30s","retries":1,"pricing":{"input_per_mtok":"2.50","output_per_mtok":10}}`, 201, &v)
			if v.Source != "api" || v.Retries != 1 || v.Targets[0].Weight != 1 || v.Targets[0].Health == nil ||
				v.Targets[0].Health.State != "closed" || v.Pricing.OutputPerMTok != "10" || v.CreatedAt == nil {
				t.Fatalf("created: %+v", v)
			}
			if st, m := chatModel(t, g, "team/chat"); st != 200 || m != "gpt-4o" {
				t.Fatalf("new model: status %d, served by %q", st, m)
			}
			g.admin(t, "PATCH", "/models/team/chat", `{"targets":[{"provider":"fake","model":"gpt-4.1-mini","weight":3}]}`, 200, &v)
			if st, m := chatModel(t, g, "team/chat"); st != 200 || m != "gpt-4.1-mini" || v.Targets[0].Weight != 3 ||
				v.Strategy != "round_robin" {
				t.Fatalf("after the change: status %d, served by %q, view %+v", st, m, v)
			}
			var list struct{ Data []admin.ModelView }
			g.admin(t, "GET", "/models", "", 200, &list)
			sources := map[string]string{}
			for _, m := range list.Data {
				sources[m.Name] = m.Source
				if m.Targets[0].Health == nil {
					t.Errorf("%s: no health", m.Name)
				}
			}
			if sources["team/chat"] != "api" || sources["gpt-4o-mini"] != "config" {
				t.Fatalf("sources: %v", sources)
			}
			checkModelRefusals(t, g)
			g.admin(t, "POST", "/models", `{"name":"uses-team","targets":[{"provider":"fake"}],"fallbacks":["team/chat"]}`, 201, nil)
			if body := adminRaw(t, g, "DELETE", "/models/team/chat", "", 409); !strings.Contains(body, "uses-team") {
				t.Fatalf("deleting a fallback target: %s", body)
			}
			g.admin(t, "DELETE", "/models/uses-team", "", 200, nil)
			g.admin(t, "DELETE", "/models/team/chat", "", 200, nil)
			if st, _ := chatModel(t, g, "team/chat"); st != 404 {
				t.Fatalf("deleted model: status %d, want 404", st)
			}
			checkModelAudit(t, g)
		})
	}
}

// checkModelRefusals checks the refusals: config models are read-only (409 naming the
// file), duplicates conflict, and invalid specs are 400 naming the field.
func checkModelRefusals(t *testing.T, g *gateway) {
	t.Helper()
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"PATCH", "/models/gpt-4o-mini", `{"retries":0}`, 409, "/etc/tollgate/tollgate.yaml"},
		{"DELETE", "/models/gpt-4o-mini", ``, 409, "/etc/tollgate/tollgate.yaml"},
		{"POST", "/models", `{"name":"gpt-4o-mini","targets":[{"provider":"fake"}]}`, 409, "/etc/tollgate/tollgate.yaml"},
		{"POST", "/models", `{"name":"team/chat","targets":[{"provider":"fake"}]}`, 409, "already exists"},
		{"POST", "/models", `{"name":"x","targets":[{"provider":"nope"}]}`, 400, `"param":"targets[0].provider"`},
		{"POST", "/models", `{"name":"x","targets":[]}`, 400, `"param":"targets"`},
		{"POST", "/models", `{"name":"x","strategy":"fastest","targets":[{"provider":"fake"}]}`, 400, `"param":"strategy"`},
		{"POST", "/models", `{"name":"x","targets":[{"provider":"fake"}],"fallbacks":["nope"]}`, 400, `"param":"fallbacks[0]"`},
		{"POST", "/models", `{"name":"x","targets":[{"provider":"fake"}],"fallbacks":["x"]}`, 400, `"param":"fallbacks[0]"`},
		{"POST", "/models", `{"name":"x","targets":[{"provider":"fake"}],"timeout":"soon"}`, 400, `"param":"timeout"`},
		{"POST", "/models", `{"name":"x","targets":[{"provider":"fake"}],"retries":-1}`, 400, `"param":"retries"`},
		{"POST", "/models", `{"name":"x","targets":[{"provider":"fake","pricing":{"input_per_mtok":"-1"}}]}`, 400, "targets[0].pricing"},
		{"POST", "/models", `{"name":" x","targets":[{"provider":"fake"}]}`, 400, `"param":"name"`},
		{"PATCH", "/models/team/chat", `{"name":"renamed"}`, 400, `"param":"name"`},
		{"PATCH", "/models/nope", `{"retries":0}`, 404, "nope"},
		{"GET", "/models/nope", ``, 404, "nope"},
	} {
		if body := adminRaw(t, g, tc.method, tc.path, tc.body, tc.status); !strings.Contains(body, tc.want) {
			t.Errorf("%s %s %s: %s; want %q", tc.method, tc.path, tc.body, body, tc.want)
		}
	}
}

// checkModelAudit checks that every model change was audited once, by the admin, and
// no refusal was.
func checkModelAudit(t *testing.T, g *gateway) {
	t.Helper()
	var page audit.Page
	g.admin(t, "GET", "/audit?action=model.*", "", 200, &page)
	var got []string
	for _, e := range page.Data {
		got = append(got, e.Action+" "+e.Target)
		if e.ActorID == "" || e.RequestID == "" {
			t.Errorf("%s without actor or request id: %+v", e.Action, e)
		}
	}
	want := "model.delete model:team/chat,model.delete model:uses-team,model.create model:uses-team," +
		"model.update model:team/chat,model.create model:team/chat"
	if strings.Join(got, ",") != want {
		t.Fatalf("audit (newest first):\n got %s\nwant %s", strings.Join(got, ","), want)
	}
}

// TestModelHealthInAdmin checks that GET /admin/v1/models shows a failing target's
// live health: open breaker, failures, error rate.
func TestModelHealthInAdmin(t *testing.T) {
	zero := 0
	g := startGateway(t, "sqlite", func(c *configs.Config) {
		faultyProvider(c, "broken", map[string]string{"X-Fake-Error-Status": "502"})
		c.Models = append(c.Models, configs.Model{Name: "flaky", Retries: &zero,
			Targets: []configs.Target{{Provider: "broken", Model: "gpt-4o"}}})
	})
	for range 6 {
		chatModel(t, g, "flaky")
	}
	chatModel(t, g, "gpt-4o-mini")
	var list struct{ Data []admin.ModelView }
	g.admin(t, "GET", "/models", "", 200, &list)
	for _, m := range list.Data {
		h := m.Targets[0].Health
		switch m.Name {
		case "flaky":
			if h.State != "open" || h.Failures != 5 || h.ErrorRate <= 0 || h.RetryAt == nil || h.InFlight != 0 {
				t.Fatalf("failing target: %+v", h)
			}
		case "gpt-4o-mini":
			if h.State != "closed" || h.Requests != 1 || h.LatencyMS <= 0 || h.ErrorRate != 0 {
				t.Fatalf("healthy target: %+v", h)
			}
		}
	}
}

// TestModelChangeFailsWithoutAudit checks that a model change whose audit row cannot
// be written is not made.
func TestModelChangeFailsWithoutAudit(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g := startGateway(t, engine, nil)
			db, err := store.Open(context.Background(), g.DB)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rename := func(from, to string) {
				if _, err := db.SQL().ExecContext(context.Background(), `ALTER TABLE `+from+` RENAME TO `+to); err != nil {
					t.Fatal(err)
				}
			}
			g.admin(t, "POST", "/models", `{"name":"kept","targets":[{"provider":"fake"}]}`, 201, nil)
			rename("audit_log", "audit_log_away")
			g.admin(t, "POST", "/models", `{"name":"unaudited","targets":[{"provider":"fake"}]}`, 503, nil)
			g.admin(t, "PATCH", "/models/kept", `{"retries":0}`, 503, nil)
			g.admin(t, "DELETE", "/models/kept", ``, 503, nil)
			rename("audit_log_away", "audit_log")
			g.admin(t, "GET", "/models/unaudited", "", 404, nil)
			var v admin.ModelView
			g.admin(t, "GET", "/models/kept", "", 200, &v)
			if v.Retries != 2 {
				t.Fatalf("an unaudited change was made: %+v", v)
			}
			if st, _ := chatModel(t, g, "unaudited"); st != 404 {
				t.Fatalf("the unaudited model routes: status %d", st)
			}
		})
	}
}

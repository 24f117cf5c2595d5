package app_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/store/storetest"
)

// reportLoad is what TestSpendReports sends: key A three plain requests to "priced"
// (with max_tokens: its budget must hold the worst case),
// key B two streams to "priced-b" and one that the upstream refuses with a 400. Each
// answered request costs billCost(4, 0, 8) = $0.012; the refused one nothing.
func reportLoad(t *testing.T, g *gateway, keyA, keyB string) (ids []string) {
	t.Helper()
	bodies := []struct{ key, body string }{
		{keyA, `{"model":"priced","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`},
		{keyA, `{"model":"priced","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`},
		{keyA, `{"model":"priced","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}`},
		{keyB, `{"model":"priced-b","stream":true,"messages":[{"role":"user","content":"hi"}]}`},
		{keyB, `{"model":"priced-b","stream":true,"messages":[{"role":"user","content":"hi"}]}`},
		{keyB, `{"model":"priced-b","messages":[{"role":"user","content":"hi"}],"fakellm":{"error_status":400}}`},
	}
	for _, b := range bodies {
		a, err := billPost(g.URL, b.key, b.body)
		if err != nil || a.status != 200 && !strings.Contains(b.body, "error_status") {
			t.Fatalf("%v %d %s", err, a.status, a.body)
		}
		ids = append(ids, a.id)
	}
	return ids
}

// TestSpendReports checks /admin/v1/spend grouped every way, /admin/v1/logs paged and
// filtered, both as CSV, GET /v1/key's spend and budget, and minting against what
// remains of a budget, all after real requests.
func TestSpendReports(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			g := startGateway(t, engine, func(c *configs.Config) {
				c.Billing.SpillDir = t.TempDir()
				c.Billing.TimeZone = "Asia/Tokyo"
				c.Models = append(c.Models, billModel("priced", "fake", "gpt-4o-mini"),
					billModel("priced-b", "fake", "gpt-4o"))
			})
			idA, keyA := g.createKey(t, `{"name":"a","project":"web","can_mint":true,`+
				`"budget":{"limit_usd":"1","period":"month"}}`)
			idB, keyB := g.createKey(t, `{"name":"b","project":"batch"}`)
			ids := reportLoad(t, g, keyA, keyB)
			waitUntil(t, func() bool { return len(reportLogs(t, g, "limit=100").Data) == len(ids) },
				"the spend rows reach the database")

			checkSpendGroups(t, g, "group_by=model", map[string][2]string{"priced": {"3", "0.036"}, "priced-b": {"3", "0.024"}})
			checkSpendGroups(t, g, "group_by=key", map[string][2]string{idA: {"3", "0.036"}, idB: {"3", "0.024"}})
			checkSpendGroups(t, g, "group_by=project", map[string][2]string{"web": {"3", "0.036"}, "batch": {"3", "0.024"}})
			checkSpendGroups(t, g, "group_by=provider&key_id="+idA, map[string][2]string{"fake": {"3", "0.036"}})
			today := time.Now().In(tokyo).Format(time.DateOnly)
			checkSpendGroups(t, g, "group_by=day&from="+today, map[string][2]string{today: {"6", "0.06"}})
			checkSpendCSV(t, g)
			checkLogPages(t, g, ids)
			checkLogFilters(t, g, idA, idB)
			checkSelfSpend(t, g, keyA)
		})
	}
}

// adminGet reads an admin path with the bootstrap token and expects 200.
func adminGet(t *testing.T, g *gateway, path string) reply {
	t.Helper()
	r := g.call(t, "GET", "/admin/v1"+path, adminToken, "", nil)
	expect(t, "GET "+path, r, 200, "")
	return r
}

func reportLogs(t *testing.T, g *gateway, query string) billing.LogPage {
	t.Helper()
	var page billing.LogPage
	if err := json.Unmarshal(adminGet(t, g, "/logs?"+query).body, &page); err != nil {
		t.Fatal(err)
	}
	return page
}

// checkSpendGroups checks a spend report's groups: requests and cost by group, and a
// total that adds them up.
func checkSpendGroups(t *testing.T, g *gateway, query string, want map[string][2]string) {
	t.Helper()
	var rep billing.SpendReport
	if err := json.Unmarshal(adminGet(t, g, "/spend?"+query).body, &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	var requests int64
	var cost billing.Money
	for _, row := range rep.Data {
		got[row.Group] = [2]string{fmt.Sprint(row.Requests), row.CostUSD.Decimal()}
		requests, cost = requests+row.Requests, cost+row.CostUSD
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: groups %v, want %v", query, got, want)
	}
	if rep.Total.Requests != requests || rep.Total.CostUSD != cost {
		t.Errorf("%s: total %+v does not add up", query, rep.Total)
	}
}

// checkSpendCSV reads the model report as CSV, viewer-token included.
func checkSpendCSV(t *testing.T, g *gateway) {
	t.Helper()
	var v struct{ Token string }
	g.admin(t, "POST", "/admin-tokens", `{"name":"finance","role":"viewer"}`, 201, &v)
	r := g.call(t, "GET", "/admin/v1/spend?group_by=model&format=csv", v.Token, "", nil)
	expect(t, "spend as CSV with a viewer token", r, 200, "")
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("content type %q", ct)
	}
	lines, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"group", "requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_usd"},
		{"priced", "3", "12", "24", "0", "0.036"}, {"priced-b", "3", "8", "16", "0", "0.024"},
		{"total", "6", "20", "40", "0", "0.06"}}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Errorf("spend CSV\n%v\nwant\n%v", lines, want)
	}
	expect(t, "bad group_by", g.call(t, "GET", "/admin/v1/spend?group_by=week", v.Token, "", nil), 400, "invalid_value")
	expect(t, "bad format", g.call(t, "GET", "/admin/v1/spend?format=xml", v.Token, "", nil), 400, "invalid_value")
}

// checkLogPages pages through the log two rows at a time, as JSON and as CSV: every
// request once, newest first.
func checkLogPages(t *testing.T, g *gateway, ids []string) {
	t.Helper()
	var seen []string
	var last time.Time
	for cursor, pages := "", 0; ; pages++ {
		page := reportLogs(t, g, "limit=2&cursor="+cursor)
		for _, row := range page.Data {
			if !last.IsZero() && row.Time.After(last) {
				t.Errorf("logs not newest first: %v after %v", row.Time, last)
			}
			last = row.Time
			seen = append(seen, row.RequestID)
		}
		if cursor = page.NextCursor; cursor == "" || pages > 5 {
			break
		}
	}
	var csvSeen []string
	for cursor, pages := "", 0; pages <= 5; pages++ {
		r := adminGet(t, g, "/logs?format=csv&limit=4&cursor="+cursor)
		lines, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
		if err != nil || len(lines) < 2 || lines[0][3] != "request_id" {
			t.Fatalf("logs CSV page: %v %q", err, r.body)
		}
		for _, l := range lines[1:] {
			csvSeen = append(csvSeen, l[3])
		}
		if cursor = r.header.Get("x-next-cursor"); cursor == "" {
			break
		}
	}
	slices.Sort(seen)
	slices.Sort(csvSeen)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(seen, want) || !slices.Equal(csvSeen, want) {
		t.Errorf("paged logs\n%v\nCSV\n%v\nwant every request once\n%v", seen, csvSeen, want)
	}
}

// checkLogFilters filters the log by key and by status class.
func checkLogFilters(t *testing.T, g *gateway, idA, idB string) {
	t.Helper()
	if page := reportLogs(t, g, "key_id="+idA); len(page.Data) != 3 {
		t.Errorf("key %s has %d log rows, want 3", idA, len(page.Data))
	}
	failed := reportLogs(t, g, "status=4xx")
	if len(failed.Data) != 1 || failed.Data[0].KeyID != idB || failed.Data[0].Status != 400 ||
		failed.Data[0].UsageSource != "none" {
		t.Errorf("4xx log rows %+v", failed.Data)
	}
	for _, row := range reportLogs(t, g, "status=200").Data {
		if row.CostUSD != 12_000_000 || row.UsageSource != "provider" || row.PriceVersion == "" {
			t.Errorf("log row %+v", row)
		}
	}
}

// checkSelfSpend reads key A's spend and budget through GET /v1/key, then mints a
// child against what is left of the budget ($0.964), not its limit ($1).
func checkSelfSpend(t *testing.T, g *gateway, keyA string) {
	t.Helper()
	r := g.call(t, "GET", "/v1/key", keyA, "", nil)
	var v struct {
		SpendUSD json.RawMessage `json:"spend_usd"`
		Budget   struct {
			LimitUSD     json.RawMessage `json:"limit_usd"`
			SpentUSD     json.RawMessage `json:"spent_usd"`
			RemainingUSD json.RawMessage `json:"remaining_usd"`
			Period       string          `json:"period"`
			ResetsAt     time.Time       `json:"resets_at"`
		}
	}
	json.Unmarshal(r.body, &v)
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	now := time.Now().In(tokyo)
	reset := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, tokyo)
	if string(v.SpendUSD) != "0.036" || string(v.Budget.LimitUSD) != "1" || string(v.Budget.SpentUSD) != "0.036" ||
		string(v.Budget.RemainingUSD) != "0.964" || v.Budget.Period != "month" || !v.Budget.ResetsAt.Equal(reset) {
		t.Errorf("GET /v1/key: %s (want resets_at %v)", r.body, reset)
	}
	expect(t, "minting more than what remains", g.mint(t, keyA, `{"max_cost_usd":"0.97"}`), 400, "invalid_value")
	expect(t, "minting within what remains", g.mint(t, keyA, `{"max_cost_usd":"0.964"}`), 201, "")
}

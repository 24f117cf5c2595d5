package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/billing"
	"github.com/tollgate-llm/tollgate/fakellm"
)

// spendCLIRequests sets up a priced model over a fake upstream with the CLI, sends n
// chat requests with a new key and returns the key's id.
func spendCLIRequests(t *testing.T, n int) string {
	t.Helper()
	fake := fakellm.New(fakellm.Options{Keys: []string{cliProviderKey}, Models: []string{"*"}})
	base, err := fake.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	mustRun(t, providersCmd(), "", "create", "--name", "fake", "--type", "openai", "--base-url", base)
	mustRun(t, providersCmd(), cliProviderKey+"\n", "keys", "add", "fake")
	mustRun(t, modelsCmd(), "", "create", "--name", "priced", "--target", "fake:gpt-4o-mini",
		"--input-price", "1000", "--output-price", "1000")
	var key struct{ ID, Key string }
	if err := json.Unmarshal([]byte(mustRun(t, keysCmd(), "", "create", "--name", "cli", "--json")), &key); err != nil {
		t.Fatal(err)
	}
	for range n {
		req, _ := http.NewRequest("POST", os.Getenv("TOLLGATE_URL")+"/v1/chat/completions",
			strings.NewReader(`{"model":"priced","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+key.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("chat: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	return key.ID
}

// TestCLISpendAndLogs sends three requests ($0.012 each: 4 + 8 tokens at $1000 per
// million) and reads them back with `tollgate spend` and `tollgate logs` as tables,
// JSON and CSV.
func TestCLISpendAndLogs(t *testing.T) {
	startCLIGateway(t, "sqlite")
	keyID := spendCLIRequests(t, 3)
	var page billing.LogPage
	for deadline := time.Now().Add(10 * time.Second); len(page.Data) < 3; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the log has %d rows", len(page.Data))
		}
		json.Unmarshal([]byte(mustRun(t, logsCmd(), "", "--json")), &page)
	}

	table := mustRun(t, spendCmd(), "", "--group-by", "model", "--from", time.Now().UTC().Format(time.DateOnly))
	if !hasLine(table, "priced", "3", "12", "24", "0", "0.036") || !hasLine(table, "TOTAL", "3", "12", "24", "0", "0.036") {
		t.Errorf("spend table:\n%s", table)
	}
	lines, err := csv.NewReader(strings.NewReader(mustRun(t, spendCmd(), "", "--group-by", "key", "--csv"))).ReadAll()
	if err != nil || len(lines) != 3 || lines[1][0] != keyID || lines[1][5] != "0.036" || lines[2][0] != "total" {
		t.Errorf("spend CSV: %v %v", err, lines)
	}
	var rep billing.SpendReport
	if err := json.Unmarshal([]byte(mustRun(t, spendCmd(), "", "--key", keyID, "--provider", "fake", "--json")), &rep); err != nil ||
		len(rep.Data) != 1 || rep.Total.CostUSD != billing.MustUSD("0.036") {
		t.Errorf("spend JSON: %v %+v", err, rep)
	}
	if out, err := run(t, spendCmd(), "", "--csv", "--json"); err == nil {
		t.Errorf("--csv with --json accepted:\n%s", out)
	}

	logs := mustRun(t, logsCmd(), "", "--limit", "2", "--key", keyID, "--status", "200")
	if strings.Count(logs, page.Data[0].RequestID) != 1 || !strings.Contains(logs, "more: --cursor ") ||
		!hasLine(logs, page.Data[0].RequestID, keyID, "priced", "fake", "200", "4", "8", "0", "0.012", "provider") {
		t.Errorf("logs table:\n%s", logs)
	}
	var stdout, stderr bytes.Buffer
	cmd := logsCmd()
	cmd.SetArgs([]string{"--csv", "--limit", "2"})
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&stdout).ReadAll()
	if err != nil || len(rows) != 3 || rows[0][3] != "request_id" || !strings.HasPrefix(stderr.String(), "more: --cursor ") {
		t.Errorf("logs CSV: %v %v; stderr %q", err, rows, stderr.String())
	}
}

// hasLine reports whether a line of out holds these fields, in order, among others.
func hasLine(out string, fields ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		i := 0
		for _, x := range strings.Fields(l) {
			if i < len(fields) && x == fields[i] {
				i++
			}
		}
		if i == len(fields) {
			return true
		}
	}
	return false
}

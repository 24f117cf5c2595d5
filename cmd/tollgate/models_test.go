package main

import (
	"io"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/store"
)

// TestCLIModels creates models with the CLI, sends traffic through them, and reads
// their live health back with `tollgate models status`.
func TestCLIModels(t *testing.T) {
	startCLIGateway(t, store.DialectSQLite)
	fake := fakellm.New(fakellm.Options{Models: []string{"*"}})
	base, err := fake.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	t.Setenv("CLI_PROVIDER_KEY", cliProviderKey)
	for _, p := range [][]string{{"good"}, {"broken", "--header", "X-Fake-Error-Status=500"}} {
		mustRun(t, providersCmd(), "", append([]string{"create", "--name", p[0], "--type", "openai", "--base-url", base}, p[1:]...)...)
		mustRun(t, providersCmd(), "", "keys", "add", p[0], "--secret-env", "CLI_PROVIDER_KEY")
	}
	mustRun(t, modelsCmd(), "", "create", "--name", "team/chat", "--target", "good:gpt-4o:2", "--retries", "0")
	mustRun(t, modelsCmd(), "", "create", "--name", "flaky", "--target", "broken:gpt-4o", "--retries", "0",
		"--fallback", "team/chat", "--timeout", "30s")
	created := mustRun(t, keysCmd(), "", "create", "--name", "cli-traffic")
	key := regexp.MustCompile(`key: (tgk_\S+)`).FindStringSubmatch(created)[1]
	for range 6 {
		chatThrough(t, key, "flaky")
	}
	out := mustRun(t, modelsCmd(), "", "status")
	for _, want := range []string{
		`(?m)^flaky\s+broken/gpt-4o\s+open until \d\d:\d\d:\d\d\s+-\s+\d+\.\d%\s+0\s+1 active$`,
		`(?m)^team/chat\s+good/gpt-4o\s+closed\s+[\d.]+(µs|ms|s)\s+0\.0%\s+0\s+1 active$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("status lacks %s:\n%s", want, out)
		}
	}
	out = mustRun(t, modelsCmd(), "", "list")
	if !regexp.MustCompile(`(?m)^flaky\s+weighted\s+broken/gpt-4o\s+team/chat\s+30s\s+0\s+api$`).MatchString(out) {
		t.Errorf("list:\n%s", out)
	}
	mustRun(t, modelsCmd(), "", "update", "team/chat", "--strategy", "priority", "--target", "good:gpt-4o-mini")
	if out := mustRun(t, modelsCmd(), "", "get", "team/chat"); !strings.Contains(out, "good/gpt-4o-mini") {
		t.Errorf("get after update:\n%s", out)
	}
	if _, err := run(t, modelsCmd(), "", "delete", "team/chat"); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("deleting a fallback target: %v", err)
	}
	mustRun(t, modelsCmd(), "", "delete", "flaky")
	mustRun(t, modelsCmd(), "", "delete", "team/chat")
}

// chatThrough sends one chat request through the CLI's gateway with a client key.
func chatThrough(t *testing.T, key, model string) {
	t.Helper()
	req, _ := http.NewRequest("POST", os.Getenv("TOLLGATE_URL")+"/v1/chat/completions",
		strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// TestParseTargets checks the --target syntax, model names with colons included.
func TestParseTargets(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want admin.TargetSpec
		bad  bool
	}{
		{"openai:gpt-4o", admin.TargetSpec{Provider: "openai", Model: "gpt-4o"}, false},
		{"openai:gpt-4o:3", admin.TargetSpec{Provider: "openai", Model: "gpt-4o", Weight: 3}, false},
		{"openai:gpt-4o:3:1", admin.TargetSpec{Provider: "openai", Model: "gpt-4o", Weight: 3, Priority: 1}, false},
		{"ollama:llama3:8b", admin.TargetSpec{Provider: "ollama", Model: "llama3:8b"}, false},
		{"ollama:llama3:8b:2", admin.TargetSpec{Provider: "ollama", Model: "llama3:8b", Weight: 2}, false},
		{"openai", admin.TargetSpec{}, true},
		{":gpt-4o", admin.TargetSpec{}, true},
	} {
		got, err := parseTargets([]string{tc.in})
		if tc.bad != (err != nil) || (!tc.bad && !reflect.DeepEqual(got[0], tc.want)) {
			t.Errorf("parseTargets(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

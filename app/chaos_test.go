package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/fakellm"
)

// chaosUpstream starts a fakellm upstream of its own, so each target's requests can be
// counted.
func chaosUpstream(t *testing.T) (*fakellm.Server, string) {
	t.Helper()
	f := fakellm.New(fakellm.Options{Keys: []string{upstreamKey}, Models: []string{"*"}, MaxRecorded: -1})
	base, err := f.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, base
}

// chaosOutcome is how one request ended.
type chaosOutcome struct {
	ok      bool   // a complete, correct answer
	code    string // the error code of a clean error, else ""
	broken  string // what was wrong, when the answer was neither
	elapsed time.Duration
}

// TestChaos sends 2,000 requests, JSON and streamed, 50 at a time, through a model of
// three targets: one healthy, one failing half its requests, one that never answers.
// Every request must end within its deadline with a correct answer or a clean
// OpenAI-shaped error; none may hang and none may be lost.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos test sends 2,000 requests")
	}
	good, goodURL := chaosUpstream(t)
	flaky, flakyURL := chaosUpstream(t)
	hung, hungURL := chaosUpstream(t)
	const deadline = 5 * time.Second
	g := startGateway(t, "sqlite", func(c *configs.Config) {
		c.Log.Level = "error"
		for _, p := range []struct {
			name, base string
			headers    map[string]string
		}{{"good", goodURL, nil}, {"flaky", flakyURL, map[string]string{"X-Fake-Error-Rate": "0.5"}},
			{"hung", hungURL, map[string]string{"X-Fake-Mode": "hang"}}} {
			c.Providers = append(c.Providers, configs.Provider{Name: p.name, Type: "openai", BaseURL: p.base,
				Headers: p.headers, Timeout: configs.Duration(time.Second),
				Keys: []configs.ProviderKey{{Secret: configs.EnvRef("FAKE_OPENAI_KEY")}}})
		}
		c.Models = append(c.Models, configs.Model{Name: "chaos", Timeout: configs.Duration(deadline),
			Targets: []configs.Target{{Provider: "good", Model: "gpt-4o"}, {Provider: "flaky", Model: "gpt-4o"},
				{Provider: "hung", Model: "gpt-4o"}}})
	})
	const total, parallel = 2000, 50
	outcomes := make([]chaosOutcome, total)
	var next atomic.Int64
	client := &http.Client{Timeout: deadline + 20*time.Second} // a request still open then hung
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < total; i = int(next.Add(1) - 1) {
				outcomes[i] = chaosRequest(client, g, i%3 == 0)
			}
		})
	}
	wg.Wait()
	summarizeChaos(t, outcomes, deadline)
	waitUntil(t, func() bool { return hung.InFlight() == 0 && flaky.InFlight() == 0 && good.InFlight() == 0 },
		"every upstream request to end")
	t.Logf("upstream requests: good %d, flaky %d, hung %d", good.Count(), flaky.Count(), hung.Count())
	if hung.Count() >= total/3 {
		t.Errorf("the hung upstream got %d requests: its breaker did not spare it", hung.Count())
	}
}

// chaosRequest sends one request and judges its answer.
func chaosRequest(client *http.Client, g *gateway, stream bool) chaosOutcome {
	body := fmt.Sprintf(`{"model":"chaos","stream":%v,"messages":[{"role":"user","content":"Hello there"}]}`, stream)
	req, _ := http.NewRequest("POST", g.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+g.Key)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return chaosOutcome{broken: "transport: " + err.Error(), elapsed: time.Since(start)}
	}
	defer resp.Body.Close()
	var out chaosOutcome
	switch {
	case resp.StatusCode != 200:
		data, _ := io.ReadAll(resp.Body)
		out = judgeError(data)
	case stream:
		out = judgeStream(resp.Body)
	default:
		data, _ := io.ReadAll(resp.Body)
		out = judgeChat(data)
	}
	out.elapsed = time.Since(start)
	return out
}

// cleanCodes are the errors a client may see when every attempt failed.
var cleanCodes = []string{"upstream_error", "upstream_timeout", "no_healthy_deployment"}

// judgeError accepts an OpenAI-shaped error with one of the clean codes.
func judgeError(data []byte) chaosOutcome {
	var e struct {
		Error *struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &e) != nil || e.Error == nil || e.Error.Message == "" || e.Error.Type == "" ||
		e.Error.Code == nil || !slices.Contains(cleanCodes, *e.Error.Code) {
		return chaosOutcome{broken: "error body: " + string(data)}
	}
	return chaosOutcome{code: *e.Error.Code}
}

// judgeChat accepts a chat completion with generated text.
func judgeChat(data []byte) chaosOutcome {
	var c struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	if json.Unmarshal(data, &c) != nil || len(c.Choices) != 1 || c.Choices[0].Message.Content == "" {
		return chaosOutcome{broken: "chat body: " + string(data)}
	}
	return chaosOutcome{ok: true}
}

// judgeStream accepts a stream of chunks ending in [DONE], or one ending in a clean
// error event.
func judgeStream(body io.Reader) chaosOutcome {
	events := sse(body)
	switch {
	case len(events) < 2:
		return chaosOutcome{broken: fmt.Sprintf("stream of %d events", len(events))}
	case events[len(events)-1] == "[DONE]":
		if !strings.Contains(events[0], "chat.completion.chunk") {
			return chaosOutcome{broken: "stream chunk: " + events[0]}
		}
		return chaosOutcome{ok: true}
	}
	return judgeError([]byte(events[len(events)-1]))
}

// summarizeChaos checks every outcome and logs the tally and the slowest answer.
func summarizeChaos(t *testing.T, outcomes []chaosOutcome, deadline time.Duration) {
	t.Helper()
	ok, codes, slowest := 0, map[string]int{}, time.Duration(0)
	for i, o := range outcomes {
		slowest = max(slowest, o.elapsed)
		switch {
		case o.broken != "":
			t.Errorf("request %d: %s", i, o.broken)
		case o.ok:
			ok++
		case o.code != "":
			codes[o.code]++
		default:
			t.Errorf("request %d: lost (no outcome recorded)", i)
		}
	}
	t.Logf("%d of %d answered, errors %v, slowest %v (deadline %v)", ok, len(outcomes), codes, slowest, deadline)
	if ok < len(outcomes)*9/10 {
		t.Errorf("only %d of %d requests were answered; the router did not route around the failures", ok, len(outcomes))
	}
}

// waitUntil polls cond for up to ten seconds.
func waitUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

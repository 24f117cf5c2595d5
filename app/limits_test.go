package app_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/configs"
)

// hiPrompt is what tollgate estimates for the prompt of chatWith: OpenAI's cookbook
// count of one user message "hi" (3 framing + 1 role + 1 content) and the reply primer
// (3). With max_tokens m a request reserves hiPrompt+m tokens.
const hiPrompt = 8

// TestKeyRequestsPerMinute: a key with rpm=60 gets exactly 60 successes in a concurrent
// burst of 100 and 429s after, with OpenAI's headers on both.
func TestKeyRequestsPerMinute(t *testing.T) {
	limiterBackends(t, nil, func(t *testing.T, e *limitEnv) {
		id, key := e.key(t, `{"name":"rpm","limits":{"rpm":60}}`)
		ok, limited := e.burst(t, 100, key, "gpt-4o-mini")
		if len(ok) != 60 || len(limited) != 40 {
			t.Fatalf("%d successes and %d 429s in a burst of 100 at rpm=60, want 60 and 40", len(ok), len(limited))
		}
		if got := remainders(t, ok, "requests", 60); !slices.Equal(got, countdown(60, 1)) {
			t.Fatalf("remaining-requests of the successes %v, want each of 59..0 once", got)
		}
		for _, o := range append(limited, e.chat(0, key, "gpt-4o-mini")) {
			checkDenial(t, o, "requests", "key "+id, "requests per minute", "limit 60")
			if rem := checkWindow(t, o, "requests", 60); rem != 0 {
				t.Fatalf("a 429 reports %d requests remaining", rem)
			}
		}
		if n := e.up.Fake.Count(); n != 60 {
			t.Fatalf("the upstream saw %d requests, want the 60 admitted", n)
		}
	})
}

// TestKeyTokensPerMinute: a key with tpm=1000 admits exactly as many requests as their
// estimates fit, and the window is settled to the tokens really used, streamed or not.
func TestKeyTokensPerMinute(t *testing.T) {
	limiterBackends(t, nil, func(t *testing.T, e *limitEnv) {
		t.Run("burst", func(t *testing.T) { tokenBurst(t, e) })
		t.Run("settled to usage", func(t *testing.T) { tokenSettle(t, e) })
		t.Run("too large", func(t *testing.T) {
			id, key := e.key(t, `{"name":"tpm-large","limits":{"tpm":1000}}`)
			o := send(e.nodes[0].URL, key, "/v1/chat/completions", chatWith("gpt-4o-mini", 1000, ""))
			if o.status != http.StatusTooManyRequests || o.err.Type != "tokens" || o.header.Get("retry-after") != "" {
				t.Fatalf("a request over the tpm itself: %d %s, retry-after %q: %s",
					o.status, o.err.Type, o.header.Get("retry-after"), o.body)
			}
			checkWindow(t, o, "tokens", 1000)
			want := fmt.Sprintf("Request too large for key %s on tokens per minute: limit 1000, requested %d", id, 1000+hiPrompt)
			if !strings.HasPrefix(o.err.Message, want) {
				t.Fatalf("message %q, want it to start %q", o.err.Message, want)
			}
		})
	})
}

// tokenBurst: requests reserving 100 tokens each, held upstream so that none settles
// during the burst: exactly 10 of 25 fit in tpm=1000.
func tokenBurst(t *testing.T, e *limitEnv) {
	id, key := e.key(t, `{"name":"tpm","limits":{"tpm":1000}}`)
	// The fake's usage equals the estimate: 4 prompt words + 4 cached = 8, 92 completion.
	body := chatWith("gpt-4o-mini", 100-hiPrompt, `"chunks":92,"cached_tokens":4`)
	ok, limited := heldBurst(t, e.up, 25, func(int) outcome { return send(e.nodes[0].URL, key, "/v1/chat/completions", body) })
	if len(ok) != 10 || len(limited) != 15 {
		t.Fatalf("%d successes and %d 429s for 25 requests of 100 tokens at tpm=1000, want 10 and 15", len(ok), len(limited))
	}
	if got := remainders(t, ok, "tokens", 1000); !slices.Equal(got, countdown(10, 100)) {
		t.Fatalf("remaining-tokens of the successes %v, want 900, 800, ... 0", got)
	}
	for _, o := range limited {
		checkDenial(t, o, "tokens", "key "+id, "tokens per minute", "limit 1000", "requested 100")
		checkWindow(t, o, "tokens", 1000)
	}
}

// tokenSettle sends requests one after another: each reserves its estimate, and the
// next one sees the previous ones counted at their real usage.
func tokenSettle(t *testing.T, e *limitEnv) {
	_, key := e.key(t, `{"name":"tpm-settle","limits":{"tpm":1000}}`)
	const est = 100
	body := chatWith("gpt-4o-mini", est-hiPrompt, "")
	stream := body[:len(body)-1] + `,"stream":true}`
	usage := usageOf(t, e, body)
	var used int64
	for i, b := range []string{body, body, stream, body} {
		o := send(e.nodes[0].URL, key, "/v1/chat/completions", b)
		if o.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, o.status, o.body)
		}
		if rem := checkWindow(t, o, "tokens", 1000); rem != 1000-used-est {
			t.Fatalf("request %d: remaining-tokens %d, want %d (1000 - %d used - %d reserved)", i, rem, 1000-used-est, used, est)
		}
		used += usage
	}
}

// usageOf is the total_tokens the upstream reports for body; answers are deterministic.
func usageOf(t *testing.T, e *limitEnv, body string) int64 {
	t.Helper()
	_, key := e.key(t, `{"name":"usage"}`)
	o := send(e.nodes[0].URL, key, "/v1/chat/completions", body)
	var resp struct {
		Usage struct {
			TotalTokens int64 `json:"total_tokens"`
		}
	}
	if err := json.Unmarshal([]byte(o.body), &resp); err != nil || resp.Usage.TotalTokens == 0 {
		t.Fatalf("no usage in %s", o.body)
	}
	if resp.Usage.TotalTokens >= 100 {
		t.Fatalf("usage %d is not below the estimate; the settle test would prove nothing", resp.Usage.TotalTokens)
	}
	return resp.Usage.TotalTokens
}

// TestKeyMaxParallel: with max_parallel=3 and the upstream holding its answers, exactly
// 3 of 10 concurrent requests reach it; the slots free when they end.
func TestKeyMaxParallel(t *testing.T) {
	limiterBackends(t, nil, func(t *testing.T, e *limitEnv) {
		id, key := e.key(t, `{"name":"parallel","limits":{"max_parallel":3}}`)
		ok, limited := heldBurst(t, e.up, 10, func(i int) outcome { return e.chat(i, key, "gpt-4o-mini") })
		if len(ok) != 3 || len(limited) != 7 {
			t.Fatalf("%d successes and %d 429s at max_parallel=3, want 3 and 7", len(ok), len(limited))
		}
		for _, o := range limited {
			checkDenial(t, o, "requests", "key "+id, "concurrent requests", "limit 3")
		}
		if n := e.up.Fake.MaxInFlight(upstreamKey); n != 3 {
			t.Fatalf("the upstream had %d requests in flight at once, want 3", n)
		}
		for i := range 5 {
			if o := e.chat(0, key, "gpt-4o-mini"); o.status != http.StatusOK {
				t.Fatalf("request %d after the burst ended: %d %s; a slot was not freed", i, o.status, o.body)
			}
		}
	})
}

// TestLimitsApplyTogether: a key's, its project's and a model's limits all apply, and a
// request denied by one consumes from none of the others.
func TestLimitsApplyTogether(t *testing.T) {
	model := uniqueName("limited")
	withModelLimit := func(c *configs.Config) {
		c.Models = append(c.Models, configs.Model{Name: model, Targets: []configs.Target{{Provider: "fake",
			Model: "gpt-4o-mini"}}, Limits: &configs.RateLimits{RPM: 8}})
	}
	limiterBackends(t, withModelLimit, func(t *testing.T, e *limitEnv) {
		project := uniqueName("capped")
		e.forget(t, "project:"+project)
		e.forget(t, "model:"+model)
		e.nodes[0].admin(t, "POST", "/projects", `{"name":"`+project+`","limits":{"rpm":5}}`, 201, nil)
		idA, keyA := e.key(t, `{"name":"a","project":"`+project+`","limits":{"rpm":10}}`)
		_, keyB := e.key(t, `{"name":"b"}`)

		// The project's 5 bind first; its 5 denials count against neither the key nor the model.
		ok, limited := e.burst(t, 10, keyA, model)
		expectBurst(t, "key rpm=10 in project rpm=5", ok, limited, 5, 5)
		if got := remainders(t, ok, "requests", 5); !slices.Equal(got, countdown(5, 1)) {
			t.Fatalf("remaining-requests %v, want the project's 4..0", got)
		}
		checkDenial(t, limited[0], "requests", "project "+project, "limit 5")

		e.nodes[0].admin(t, "PATCH", "/projects/"+project, `{"limits":null}`, 200, nil)
		ok, limited = e.burst(t, 10, keyA, "gpt-4o-mini")
		expectBurst(t, "the key's remaining 5 of rpm=10", ok, limited, 5, 5)
		checkDenial(t, limited[0], "requests", "key "+idA, "limit 10")

		ok, limited = e.burst(t, 10, keyB, model)
		expectBurst(t, "the model's remaining 3 of rpm=8", ok, limited, 3, 7)
		checkDenial(t, limited[0], "requests", "model "+model, "limit 8")
	})
}

func expectBurst(t *testing.T, what string, ok, limited []outcome, wantOK, wantLimited int) {
	t.Helper()
	if len(ok) != wantOK || len(limited) != wantLimited {
		t.Fatalf("%s: %d successes and %d 429s, want %d and %d", what, len(ok), len(limited), wantOK, wantLimited)
	}
}

// TestSequentialStreamsStayWithinMaxParallel: a client that streams one request after
// another, and moves on as soon as it reads [DONE] (as hand-written SSE clients do),
// never has two in flight, so a key with max_parallel=1 never answers it 429.
func TestSequentialStreamsStayWithinMaxParallel(t *testing.T) {
	limiterBackends(t, nil, func(t *testing.T, e *limitEnv) {
		_, key := e.key(t, `{"name":"sequential","limits":{"max_parallel":1}}`)
		body := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		limited := 0
		for range 100 {
			req, _ := http.NewRequest("POST", e.nodes[0].URL+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := limitClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode == http.StatusTooManyRequests {
				limited++
			}
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() && sc.Text() != "data: [DONE]" {
			}
			resp.Body.Close()
		}
		if limited > 0 {
			t.Fatalf("%d of 100 sequential streams answered 429 at max_parallel=1: the slot was freed after [DONE]", limited)
		}
	})
}

package app_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tidwall/gjson"

	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/store"
)

// billPricing prices the billing tests' models so that costs are exact and easy to work
// out by hand: $1000 per million input and output tokens (1e6 nano-USD a token), $100
// per million cached input tokens (1e5 nano-USD a token) and $1250 per million cache
// writes.
var billPricing = &configs.Pricing{InputPerMTok: "1000", OutputPerMTok: "1000",
	CachedInputPerMTok: "100", CacheWritePerMTok: "1250"}

// billCost is the hand-computed cost in nano-USD of usage at billPricing: uncached
// prompt tokens at 1e6, cached ones at 1e5, completion tokens at 1e6.
func billCost(prompt, cached, completion int64) int64 {
	return (prompt-cached)*1_000_000 + cached*100_000 + completion*1_000_000
}

// billModel routes name to provider's upstream model at billPricing.
func billModel(name, provider, upstream string) configs.Model {
	return configs.Model{Name: name, Pricing: billPricing, Targets: []configs.Target{{Provider: provider, Model: upstream}}}
}

// billAnswer is what a client got for one request.
type billAnswer struct {
	status int
	id     string // x-request-id
	typ    string
	code   string
	msg    string
	body   []byte
}

// billClient keeps enough idle connections for the concurrent tests.
var billClient = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

// billPost sends one chat request and reads the whole answer; err is a transport
// failure (no answer).
func billPost(url, key, body string) (billAnswer, error) {
	req, _ := http.NewRequest("POST", url+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := billClient.Do(req)
	if err != nil {
		return billAnswer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return billAnswer{}, err
	}
	a := billAnswer{status: resp.StatusCode, id: resp.Header.Get("x-request-id"), body: data}
	if a.status >= 400 {
		var e struct {
			Error struct{ Type, Code, Message string }
		}
		json.Unmarshal(data, &e)
		a.typ, a.code, a.msg = e.Error.Type, e.Error.Code, e.Error.Message
	}
	return a, nil
}

// billFire sends n requests at once, spread over urls, and returns the answers and the
// number of requests that got none.
func billFire(urls []string, key string, n int, body string) ([]billAnswer, int) {
	var mu sync.Mutex
	var out []billAnswer
	lost := 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			a, err := billPost(urls[i%len(urls)], key, body)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				lost++
				return
			}
			out = append(out, a)
		})
	}
	close(start)
	wg.Wait()
	return out, lost
}

// billSpendRows reads the spend rows of requests (not of billed failed attempts) from
// the database at dbURL, once the gateways that wrote it have stopped, by request id.
// A request with two rows fails the test.
func billSpendRows(t testing.TB, dbURL string) map[string]store.SpendRow {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]store.SpendRow{}
	q := store.SpendLogQuery{Limit: 1000}
	for {
		page, err := db.ListSpendLog(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			if _, dup := out[r.RequestID]; dup && r.RecordType == store.SpendRequest {
				t.Fatalf("request %s has two spend rows", r.RequestID)
			}
			if r.RecordType == store.SpendRequest {
				out[r.RequestID] = r
			}
		}
		if len(page) < q.Limit {
			return out
		}
		last := page[len(page)-1]
		q.BeforeTime, q.BeforeID = last.Time, last.ID
	}
}

// billRowsOfKey returns the rows of one key.
func billRowsOfKey(rows map[string]store.SpendRow, keyID string) map[string]store.SpendRow {
	out := map[string]store.SpendRow{}
	for id, r := range rows {
		if r.KeyID == keyID {
			out[id] = r
		}
	}
	return out
}

// billRedisPrefix returns a budget counter prefix of this test's own and deletes its
// keys, and only them, when the test ends.
func billRedisPrefix(t testing.TB, rdb *redis.Client) string {
	var b [6]byte
	rand.Read(b[:])
	prefix := "tgtest:{budget-" + hex.EncodeToString(b[:]) + "}:"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	return prefix
}

// billEnv is the environment replicas share: one master key, one admin token.
func billEnv() map[string]string {
	master := make([]byte, 32)
	rand.Read(master)
	return map[string]string{"FAKE_OPENAI_KEY": upstreamKey, "TOLLGATE_ADMIN_TOKEN": adminToken,
		"TOLLGATE_MASTER_KEY": base64.StdEncoding.EncodeToString(master)}
}

// billFake starts a fake upstream that accepts the test key, with opts, and returns
// its base URL.
func billFake(t testing.TB, opts fakellm.Options) (*fakellm.Server, string) {
	t.Helper()
	opts.Keys, opts.Models = []string{upstreamKey}, []string{"*"}
	fake := fakellm.New(opts)
	base, err := fake.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	return fake, base
}

// billProvider is a provider of type typ at base with the test key and extra headers.
func billProvider(name, typ, base string, headers map[string]string) configs.Provider {
	return configs.Provider{Name: name, Type: typ, BaseURL: base, Headers: headers,
		Keys: []configs.ProviderKey{{Secret: configs.EnvRef("FAKE_OPENAI_KEY")}}}
}

// billStopAll stops the gateways and flushes their spend writers.
func billStopAll(t testing.TB, gs ...*gateway) {
	t.Helper()
	for _, g := range gs {
		if err := g.App.Close(); err != nil {
			t.Fatalf("closing a gateway: %v", err)
		}
	}
}

// billStop stops a gateway of startGateway as SIGTERM does, flushes its spend and
// returns its database's spend rows by request id.
func billStop(t testing.TB, g *gateway) map[string]store.SpendRow {
	t.Helper()
	g.Stop()
	<-g.Done
	billStopAll(t, g)
	return billSpendRows(t, g.DB)
}

// billReadChunks reads a chat stream until n chunks with generated text have arrived, and
// returns how many did.
func billReadChunks(t testing.TB, body io.Reader, n int) int {
	t.Helper()
	sc := bufio.NewScanner(body)
	got := 0
	for got < n && sc.Scan() {
		payload, ok := strings.CutPrefix(sc.Text(), "data: ")
		if ok && gjson.Get(payload, "choices.0.delta.content").String() != "" {
			got++
		}
	}
	return got
}

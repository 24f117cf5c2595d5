package app_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/internal/tcpproxy"
)

// outageEnv is three replicas whose link to Redis runs through a proxy the test cuts.
type outageEnv struct {
	*limitEnv
	proxy *tcpproxy.Proxy
}

func startOutage(t *testing.T, policy string) outageEnv {
	t.Helper()
	redisURL, proxy := proxiedRedis(t)
	e := startReplicas(t, 3, redisURL, func(c *configs.Config) { c.Limits.RedisFailure = policy })
	return outageEnv{limitEnv: e, proxy: proxy}
}

// proxiedRedis returns the URL of the test Redis through a proxy the test controls.
func proxiedRedis(t *testing.T) (string, *tcpproxy.Proxy) {
	t.Helper()
	raw, _ := testRedis(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	proxy := tcpproxy.Start(t, u.Host)
	u.Host = proxy.Addr()
	return u.String(), proxy
}

// TestRedisOutageFailOpen: Redis cut mid-load, limits fail open: every request is
// still served, limits hold per replica, /readyz and /metrics say degraded; when Redis
// returns, limits are shared again without a restart.
func TestRedisOutageFailOpen(t *testing.T) {
	e := startOutage(t, "fail_open")
	_, loadKey := e.key(t, `{"name":"load","limits":{"rpm":1000000,"max_parallel":1000}}`)
	_, perReplica := e.key(t, `{"name":"per-replica","limits":{"rpm":10}}`)

	l := startLoad(e.limitEnv, loadKey)
	eventually(t, "load before the cut", func() bool { return l.ok.Load() >= 30 })
	e.proxy.Cut()
	atCut := l.ok.Load()
	for i := range e.nodes {
		eventually(t, "replica degraded", func() bool { return degradedGauge(t, e.nodes[i]) == 1 })
	}
	eventually(t, "load served during the outage", func() bool { return l.ok.Load() >= atCut+30 })
	if failed := l.stop(); len(failed) > 0 {
		t.Fatalf("%d requests failed while Redis was cut under fail_open, first: %d %s", len(failed), failed[0].status, failed[0].body)
	}
	for i, g := range e.nodes {
		if code, status := readyz(t, g); code != http.StatusOK || status != "degraded" {
			t.Fatalf("replica %d /readyz during the outage: %d %q, want 200 degraded", i, code, status)
		}
	}

	// Per replica: each one counts rpm=10 on its own.
	ok, limited := e.burst(t, 45, perReplica, "gpt-4o-mini")
	expectBurst(t, "45 requests over 3 degraded replicas at rpm=10", ok, limited, 30, 15)
	perNode := make([]int, len(e.nodes))
	for _, o := range ok {
		perNode[o.node]++
	}
	if perNode[0] != 10 || perNode[1] != 10 || perNode[2] != 10 {
		t.Fatalf("successes per degraded replica %v, want 10 each", perNode)
	}

	e.proxy.Restore()
	expectShared(t, e.limitEnv)
}

// TestRedisOutageFailClosed: Redis cut, limits fail closed: limited requests answer
// 503 and /readyz says unavailable; when Redis returns they are served again, with
// shared limits, without a restart.
func TestRedisOutageFailClosed(t *testing.T) {
	e := startOutage(t, "fail_closed")
	_, key := e.key(t, `{"name":"closed","limits":{"rpm":1000}}`)
	for i := range e.nodes {
		expectStatus(t, e.chat(i, key, "gpt-4o-mini"), http.StatusOK)
	}
	e.proxy.Cut()
	for i := range 2 * len(e.nodes) {
		o := e.chat(i, key, "gpt-4o-mini")
		if o.status != http.StatusServiceUnavailable || o.err.Code != "service_unavailable" || o.header.Get("retry-after") == "" {
			t.Fatalf("replica %d with Redis cut under fail_closed: %d %s retry-after %q: %s",
				o.node, o.status, o.err.Code, o.header.Get("retry-after"), o.body)
		}
	}
	for i, g := range e.nodes {
		if code, status := readyz(t, g); code != http.StatusServiceUnavailable {
			t.Fatalf("replica %d /readyz during the outage: %d %q, want 503", i, code, status)
		}
	}
	if n := e.up.Fake.Count(); n != 3 {
		t.Fatalf("the upstream saw %d requests, want only the 3 from before the cut", n)
	}
	e.proxy.Restore()
	for i := range e.nodes {
		e.until(t, i, key, "service after Redis returned", func(o outcome) bool { return o.status == http.StatusOK })
	}
	expectShared(t, e.limitEnv)
}

// expectShared waits until no replica is degraded, then checks a fresh key's limit
// holds across the replicas together.
func expectShared(t *testing.T, e *limitEnv) {
	t.Helper()
	for i := range e.nodes {
		eventually(t, "replica back on Redis", func() bool { return degradedGauge(t, e.nodes[i]) == 0 })
		if code, status := readyz(t, e.nodes[i]); code != http.StatusOK || status != "ready" {
			t.Fatalf("replica %d /readyz after Redis returned: %d %q", i, code, status)
		}
	}
	_, key := e.key(t, `{"name":"after","limits":{"rpm":10}}`)
	ok, limited := e.burst(t, 30, key, "gpt-4o-mini")
	expectBurst(t, "30 requests over 3 replicas at rpm=10 after Redis returned", ok, limited, 10, 20)
}

// load keeps two clients per replica sending requests until stopped.
type load struct {
	ok     atomic.Int64
	done   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	failed []outcome
}

func startLoad(e *limitEnv, key string) *load {
	l := &load{done: make(chan struct{})}
	for c := range 2 * len(e.nodes) {
		l.wg.Go(func() {
			for {
				select {
				case <-l.done:
					return
				default:
				}
				if o := e.chat(c, key, "gpt-4o-mini"); o.status == http.StatusOK {
					l.ok.Add(1)
				} else {
					l.mu.Lock()
					l.failed = append(l.failed, o)
					l.mu.Unlock()
				}
			}
		})
	}
	return l
}

// stop ends the load and returns the requests that were not answered 200.
func (l *load) stop() []outcome {
	close(l.done)
	l.wg.Wait()
	return l.failed
}

// readyz returns /readyz's status code and status field.
func readyz(t *testing.T, g *gateway) (int, string) {
	t.Helper()
	resp, err := http.Get(g.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Status string }
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Status
}

// degradedGauge reads tollgate_ratelimit_degraded from /metrics; -1 when absent.
func degradedGauge(t *testing.T, g *gateway) float64 {
	t.Helper()
	resp, err := http.Get(g.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "tollgate_ratelimit_degraded "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

// TestRedisOutageFreesSlotsHeldAcrossIt: requests admitted through Redis that end while
// Redis is cut cannot free their concurrency slots then; once Redis is back they do, so
// the key gets its whole max_parallel again instead of waiting for the slots to expire.
func TestRedisOutageFreesSlotsHeldAcrossIt(t *testing.T) {
	e := startOutage(t, "fail_open")
	id, key := e.key(t, `{"name":"slots","limits":{"max_parallel":2}}`)
	e.up.hold()
	f := launch(2, func(i int) outcome { return e.chat(i, key, "gpt-4o-mini") })
	eventually(t, "two requests in flight", func() bool { return e.up.Fake.InFlight() == 2 })
	e.proxy.Cut()
	e.up.release()
	ok, _ := split(t, f.wait())
	expectBurst(t, "the requests in flight at the cut", ok, nil, 2, 0)

	e.proxy.Restore()
	for i := range e.nodes {
		eventually(t, "replica back on Redis", func() bool { return degradedGauge(t, e.nodes[i]) == 0 })
	}
	ok, limited := heldBurst(t, e.up, 6, func(i int) outcome { return e.chat(i, key, "gpt-4o-mini") })
	expectBurst(t, "6 held requests at max_parallel=2 after Redis returned", ok, limited, 2, 4)
	checkDenial(t, limited[0], "requests", "key "+id, "concurrent requests", "limit 2")
}

// TestRedisTimeoutBoundsASlowRedis: a Redis that answers, but more slowly than
// limits.redis_timeout, counts as unreachable (limits fall back per replica); within a
// longer limits.redis_timeout the same Redis keeps limits shared.
func TestRedisTimeoutBoundsASlowRedis(t *testing.T) {
	for _, tc := range []struct {
		name     string
		timeout  configs.Duration
		degraded float64
	}{
		{"default 1s", 0, 1},
		{"redis_timeout 15s", redisTimeout, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			redisURL, proxy := proxiedRedis(t)
			e := startOne(t, redisURL, func(c *configs.Config) { c.Limits.RedisTimeout = tc.timeout })
			_, key := e.key(t, `{"name":"slow","limits":{"rpm":5}}`)
			expectStatus(t, e.chat(0, key, "gpt-4o-mini"), http.StatusOK)
			proxy.Delay(5500 * time.Millisecond) // beyond go-redis's own 5s read timeout too
			o := e.chat(0, key, "gpt-4o-mini")
			expectStatus(t, o, http.StatusOK)
			if g := degradedGauge(t, e.nodes[0]); g != tc.degraded {
				t.Fatalf("degraded gauge %v with Redis answering in 5.5s, want %v", g, tc.degraded)
			}
			if rem := checkWindow(t, o, "requests", 5); tc.degraded == 0 && rem != 3 {
				t.Fatalf("remaining-requests %d, want the shared 3", rem)
			}
			proxy.Delay(0)
		})
	}
}

package app_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestReplicasShareRequestsPerMinute: three replicas sharing Redis, 300 concurrent
// requests spread over them for a key with rpm=100: exactly 100 succeed.
func TestReplicasShareRequestsPerMinute(t *testing.T) {
	redisURL, _ := testRedis(t)
	e := startReplicas(t, 3, redisURL, nil)
	id, key := e.key(t, `{"name":"shared-rpm","limits":{"rpm":100}}`)
	ok, limited := e.burst(t, 300, key, "gpt-4o-mini")
	expectBurst(t, "300 requests over 3 replicas at rpm=100", ok, limited, 100, 200)
	if got := remainders(t, ok, "requests", 100); !slices.Equal(got, countdown(100, 1)) {
		t.Fatalf("remaining-requests of the successes %v, want each of 99..0 once", got)
	}
	perNode := make([]int, len(e.nodes))
	for _, o := range ok {
		perNode[o.node]++
	}
	for _, o := range limited {
		checkDenial(t, o, "requests", "key "+id, "limit 100")
	}
	if n := e.up.Fake.Count(); n != 100 {
		t.Fatalf("the upstream saw %d requests, want 100", n)
	}
	t.Logf("successes per replica: %v", perNode)
}

// TestReplicasShareMaxParallel: with max_parallel=5, never more than 5 requests are in
// flight at the upstream across three replicas: exactly 5 of a held burst get through,
// and a sustained load never has a sixth in flight.
func TestReplicasShareMaxParallel(t *testing.T) {
	redisURL, _ := testRedis(t)
	e := startReplicas(t, 3, redisURL, nil)
	id, key := e.key(t, `{"name":"shared-parallel","limits":{"max_parallel":5}}`)

	ok, limited := heldBurst(t, e.up, 30, func(i int) outcome { return e.chat(i, key, "gpt-4o-mini") })
	expectBurst(t, "30 held requests over 3 replicas at max_parallel=5", ok, limited, 5, 25)
	checkDenial(t, limited[0], "requests", "key "+id, "concurrent requests", "limit 5")

	// Sustained: 12 clients in a loop, each answer taking 20ms upstream.
	body := chatWith("gpt-4o-mini", 16, `"latency_ms":20`)
	var mu sync.Mutex
	var wg sync.WaitGroup
	counts := map[int]int{}
	for c := range 12 {
		wg.Go(func() {
			for range 10 {
				o := send(e.nodes[c%3].URL, key, "/v1/chat/completions", body)
				if o.status == http.StatusTooManyRequests {
					checkDenial(t, o, "requests", "concurrent requests", "limit 5")
				}
				mu.Lock()
				counts[o.status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if counts[http.StatusOK] < 5 || counts[http.StatusOK]+counts[http.StatusTooManyRequests] != 120 {
		t.Fatalf("sustained load answers %v, want 200s and 429s only, at least 5 of them 200", counts)
	}
	if n := e.up.Fake.MaxInFlight(upstreamKey); n != 5 {
		t.Fatalf("the upstream had %d requests in flight at once, want at most (and, held, exactly) 5", n)
	}
	t.Logf("sustained load over 3 replicas at max_parallel=5: %v", counts)
}

// TestLimitChangesReachEveryReplica: a key's or a project's limits changed through the
// admin API of one replica apply to that replica's next request, and to every other
// replica's as soon as the change message reaches it.
func TestLimitChangesReachEveryReplica(t *testing.T) {
	redisURL, _ := testRedis(t)
	e := startReplicas(t, 3, redisURL, nil)
	project := uniqueName("changing")
	e.forget(t, "project:"+project)
	e.nodes[0].admin(t, "POST", "/projects", `{"name":"`+project+`","limits":{"rpm":1000}}`, 201, nil)
	id, key := e.key(t, `{"name":"changing","project":"`+project+`","limits":{"rpm":3}}`)
	for i := range 3 {
		expectStatus(t, e.chat(i, key, "gpt-4o-mini"), http.StatusOK)
	}
	for i := range 3 {
		checkDenial(t, e.chat(i, key, "gpt-4o-mini"), "requests", "key "+id, "limit 3")
	}

	// Raised through replica 0: its next request passes; the others' pass once told.
	e.nodes[0].admin(t, "PATCH", "/keys/"+id, `{"limits":{"rpm":6}}`, 200, nil)
	expectStatus(t, e.chat(0, key, "gpt-4o-mini"), http.StatusOK)
	for i := 1; i < 3; i++ {
		e.until(t, i, key, "the raised key limit", func(o outcome) bool { return o.status == http.StatusOK })
	}
	for i := range 3 {
		checkDenial(t, e.chat(i, key, "gpt-4o-mini"), "requests", "key "+id, "limit 6")
	}

	// The project lowered through replica 1 below what it has used, then raised through 2.
	e.nodes[1].admin(t, "PATCH", "/keys/"+id, `{"limits":null}`, 200, nil)
	e.nodes[1].admin(t, "PATCH", "/projects/"+project, `{"limits":{"rpm":1}}`, 200, nil)
	checkDenial(t, e.chat(1, key, "gpt-4o-mini"), "requests", "project "+project, "limit 1")
	for _, i := range []int{0, 2} {
		e.until(t, i, key, "the lowered project limit", func(o outcome) bool {
			return o.status == http.StatusTooManyRequests && strings.Contains(o.err.Message, "project "+project+" ")
		})
	}
	e.nodes[2].admin(t, "PATCH", "/projects/"+project, `{"limits":{"rpm":1000}}`, 200, nil)
	expectStatus(t, e.chat(2, key, "gpt-4o-mini"), http.StatusOK)
	for _, i := range []int{0, 1} {
		e.until(t, i, key, "the raised project limit", func(o outcome) bool { return o.status == http.StatusOK })
	}
}

// TestProjectLimitsApplyOnceDefined: a key may name a project before the project is
// defined; defining it with limits applies them to the key's next request, on every
// replica, although each had already looked the project up and found nothing.
func TestProjectLimitsApplyOnceDefined(t *testing.T) {
	t.Run("one replica", func(t *testing.T) {
		limiterBackends(t, nil, func(t *testing.T, e *limitEnv) { lateProject(t, e) })
	})
	t.Run("three replicas", func(t *testing.T) {
		redisURL, _ := testRedis(t)
		lateProject(t, startReplicas(t, 3, redisURL, nil))
	})
}

func lateProject(t *testing.T, e *limitEnv) {
	project := uniqueName("late")
	e.forget(t, "project:"+project)
	_, key := e.key(t, `{"name":"early","project":"`+project+`"}`)
	for i := range e.nodes {
		if o := e.chat(i, key, "gpt-4o-mini"); o.status != http.StatusOK || o.header.Get("x-ratelimit-limit-requests") != "" {
			t.Fatalf("replica %d, before the project exists: %d, limit %q", i, o.status, o.header.Get("x-ratelimit-limit-requests"))
		}
	}
	e.nodes[0].admin(t, "POST", "/projects", `{"name":"`+project+`","limits":{"rpm":1}}`, 201, nil)
	o := e.chat(0, key, "gpt-4o-mini")
	expectStatus(t, o, http.StatusOK)
	if got := checkWindow(t, o, "requests", 1); got != 0 {
		t.Fatalf("remaining-requests %d after the project's first request, want 0", got)
	}
	for i := range e.nodes {
		e.until(t, i, key, "the new project's limit", func(o outcome) bool {
			return o.status == http.StatusTooManyRequests && o.header.Get("x-ratelimit-limit-requests") == "1"
		})
	}
}

// until polls replica i with key until an answer satisfies ok, failing after a bound
// meant for a broken system.
func (e *limitEnv) until(t *testing.T, i int, key, what string, ok func(outcome) bool) {
	t.Helper()
	var last outcome
	eventually(t, fmt.Sprintf("%s on replica %d", what, i), func() bool {
		last = e.chat(i, key, "gpt-4o-mini")
		return ok(last)
	})
}

func expectStatus(t *testing.T, o outcome, status int) {
	t.Helper()
	if o.status != status {
		t.Fatalf("replica %d answered %d, want %d: %s", o.node, o.status, status, o.body)
	}
}

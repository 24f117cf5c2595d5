package invalidate

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder collects the ids a subscriber receives.
type recorder struct {
	mu  sync.Mutex
	ids []string
	ch  chan string
}

func newRecorder() *recorder { return &recorder{ch: make(chan string, 100)} }

func (r *recorder) fn(id string) {
	r.mu.Lock()
	r.ids = append(r.ids, id)
	r.mu.Unlock()
	r.ch <- id
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

// waitFor waits until the recorder receives want, failing after a generous timeout
// (a failure bound for a broken bus, not a speed assertion).
func (r *recorder) waitFor(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case id := <-r.ch:
			if id == want {
				return
			}
		case <-timeout:
			t.Fatalf("did not receive %q; got %v", want, r.got())
		}
	}
}

func TestLocalDeliversBeforePublishReturns(t *testing.T) {
	bus := NewLocal(nil)
	keys, models := newRecorder(), newRecorder()
	stop := bus.Subscribe("keys", keys.fn)
	bus.Subscribe("models", models.fn)
	// A panicking subscriber does not stop the others.
	bus.Subscribe("keys", func(string) { panic("boom") })
	ctx := context.Background()
	if err := bus.Publish(ctx, "keys", "k1"); err != nil {
		t.Fatal(err)
	}
	if got := keys.got(); !slices.Equal(got, []string{"k1"}) {
		t.Fatalf("keys subscriber got %v right after Publish", got)
	}
	if got := models.got(); len(got) != 0 {
		t.Fatalf("models subscriber got %v", got)
	}
	stop()
	bus.Publish(ctx, "keys", "k2")
	if got := keys.got(); !slices.Equal(got, []string{"k1"}) {
		t.Fatalf("unsubscribed subscriber got %v", got)
	}
	for _, bad := range [][2]string{{"", "x"}, {"a\nb", "x"}, {"keys", ""}} {
		if err := bus.Publish(ctx, bad[0], bad[1]); err == nil {
			t.Errorf("Publish(%q, %q) accepted", bad[0], bad[1])
		}
	}
}

func TestWireFormat(t *testing.T) {
	for _, id := range []string{"AbCdEfGhIjKl", "model with spaces", "multi\nline"} {
		o, topic, got, ok := decode(encode("origin", "keys", id))
		if !ok || o != "origin" || topic != "keys" || got != id {
			t.Errorf("round trip of %q: %q %q %q %v", id, o, topic, got, ok)
		}
	}
	if _, _, _, ok := decode("no separators"); ok {
		t.Error("decoded a payload without separators")
	}
}

func TestSchemaChannelFitsPostgres(t *testing.T) {
	long := schemaChannel(string(make([]byte, 100)))
	if len(long) > 63 || schemaChannel("public") != "tollgate_invalidate_public" {
		t.Fatalf("channels %q %q", long, schemaChannel("public"))
	}
	if schemaChannel("a") == schemaChannel("b") {
		t.Fatal("two schemas share a channel")
	}
}

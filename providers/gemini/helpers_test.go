package gemini

import (
	"flag"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/providers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedNow is the clock of every test client.
var fixedNow = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

// testClient is a client with a fixed clock and ids, pointed at base.
func testClient(t testing.TB, base string) *Client {
	t.Helper()
	p, err := New(providers.Config{Name: "gemini", BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	c := p.(*Client)
	c.now = func() time.Time { return fixedNow }
	c.newID = func() string { return "generated-id" }
	return c
}

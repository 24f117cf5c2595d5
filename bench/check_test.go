package main

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestSSEPayloads(t *testing.T) {
	body := "data: {\"a\":1}\n\n: comment\n\nevent: x\ndata: line one\ndata: line two\n\r\n" +
		"data:{\"b\":2}\r\n\r\ndata: [DONE]\n\n"
	got := ssePayloads([]byte(body))
	want := []string{`{"a":1}`, "line one\nline two", `{"b":2}`, "[DONE]"}
	if len(got) != len(want) {
		t.Fatalf("%d payloads, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("payload %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestCompareStreamsFindsEveryDifference(t *testing.T) {
	up := "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"usage\":{}}\n\ndata: [DONE]\n\n"
	tests := []struct {
		name, client   string
		identical, raw bool
	}{
		{"same bytes", up, true, true},
		{"same events, other framing", strings.ReplaceAll(up, "data: ", "data:"), true, false},
		{"usage chunk dropped", "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n", false, false},
		{"a byte changed", strings.Replace(up, `"hi"`, `"ho"`, 1), false, false},
		{"no [DONE]", strings.TrimSuffix(up, "data: [DONE]\n\n"), false, false},
		{"empty", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compareStreams([]byte(up), []byte(tt.client))
			if c.Identical != tt.identical || c.RawIdentical != tt.raw {
				t.Fatalf("identical %v raw %v, want %v %v (%s)", c.Identical, c.RawIdentical, tt.identical, tt.raw, c.Detail)
			}
			if !c.Identical && c.Detail == "" {
				t.Fatal("a difference without a detail")
			}
		})
	}
}

// TestCheckStreamThroughTheFloor runs the byte check as the bench does, through the
// floor in front of the recording upstream.
func TestCheckStreamThroughTheFloor(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec, origin, err := startRecorder(ctx, "sk-up")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(origin)
	fl := httptest.NewServer(newFloor(u, map[string]string{"ck": "sk-up"}))
	defer fl.Close()
	for _, tg := range []*target{
		{name: "direct", checkBase: origin, key: "sk-up", client: newClient()},
		{name: "floor", checkBase: fl.URL, key: "ck", client: newClient()},
	} {
		c := checkStream(ctx, tg, rec, 24)
		if !c.Identical || !c.RawIdentical || c.Content != 24 {
			t.Fatalf("%s: %+v", tg.name, c)
		}
		// 24 content chunks, the opening and finish chunks, usage and [DONE].
		if c.Events != 28 {
			t.Fatalf("%s: %d events, want 28", tg.name, c.Events)
		}
	}
	// A target that answers something else is caught.
	bad := &target{name: "bad", checkBase: origin, key: "wrong", client: newClient()}
	if c := checkStream(ctx, bad, rec, 24); c.Identical || c.Detail == "" {
		t.Fatalf("a refused stream passed the check: %+v", c)
	}
}

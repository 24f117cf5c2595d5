package fakellm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestModes(t *testing.T) {
	stream := chatBody(`"stream":true`)
	tests := []struct {
		name, mode, body string
		check            func(t *testing.T, status int, body []byte, readErr error)
	}{
		{"garbage", ModeGarbage, chatBody(""), func(t *testing.T, status int, b []byte, err error) {
			if status != http.StatusOK || json.Valid(b) || err != nil {
				t.Errorf("want 200 with a non-JSON body, got %d %q %v", status, b, err)
			}
		}},
		{"garbage stream", ModeGarbage, stream, func(t *testing.T, status int, b []byte, err error) {
			if status != http.StatusOK || strings.Contains(string(b), "data:") {
				t.Errorf("want 200 with a non-SSE body, got %d %q", status, b)
			}
		}},
		{"error_midstream", ModeErrorMidstream, stream, func(t *testing.T, status int, b []byte, err error) {
			data := sseData(t, b)
			// role, 4 of 8 words, error; no [DONE]
			if status != http.StatusOK || err != nil || len(data) != 6 {
				t.Fatalf("status %d, err %v, events:\n%s", status, err, b)
			}
			if !strings.HasPrefix(data[5], `{"error":`) || strings.Contains(string(b), "[DONE]") {
				t.Errorf("want an error event and no [DONE]:\n%s", b)
			}
			checkError(t, []byte(data[5]), "server_error", "")
		}},
		{"error_midstream non-stream", ModeErrorMidstream, chatBody(""), func(t *testing.T, status int, b []byte, err error) {
			if status != http.StatusInternalServerError {
				t.Errorf("status %d: %s", status, b)
			}
			checkError(t, b, "server_error", "")
		}},
		{"drop_midstream", ModeDropMidstream, stream, func(t *testing.T, status int, b []byte, err error) {
			if err == nil || strings.Contains(string(b), "[DONE]") || strings.Count(string(b), "data: ") != 5 {
				t.Errorf("want 5 events then a broken body, got err %v:\n%s", err, b)
			}
		}},
		{"drop_midstream non-stream", ModeDropMidstream, chatBody(""), func(t *testing.T, status int, b []byte, err error) {
			if status != http.StatusOK || !errors.Is(err, io.ErrUnexpectedEOF) || json.Valid(b) || len(b) == 0 {
				t.Errorf("want a cut JSON body, got %d %v %q", status, err, b)
			}
		}},
	}
	for _, tt := range tests {
		for _, via := range []string{"header", "body"} {
			t.Run(tt.name+" via "+via, func(t *testing.T) {
				f := newFixture(t, Options{})
				r := req{path: "/v1/chat/completions", body: tt.body}
				if via == "header" {
					r.headers = map[string]string{"X-Fake-Mode": tt.mode}
				} else {
					r.body = strings.TrimSuffix(r.body, "}") + `,"fakellm":{"mode":"` + tt.mode + `"}}`
				}
				resp := f.do(r)
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				tt.check(t, resp.StatusCode, b, err)
			})
		}
	}
}

func TestHangEndsWhenClientLeaves(t *testing.T) {
	f := newFixture(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	hr, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.url+"/v1/chat/completions", strings.NewReader(chatBody("")))
	hr.Header.Set("Authorization", "Bearer "+testKey)
	hr.Header.Set("X-Fake-Mode", ModeHang)
	if resp, err := http.DefaultClient.Do(hr); err == nil {
		resp.Body.Close()
		t.Fatalf("hang answered %d", resp.StatusCode)
	}
	waitFor(t, "the hang to be cancelled", func() bool { return f.fake.Cancelled() == 1 && f.fake.InFlight() == 0 })
}

func TestCancelledMidStream(t *testing.T) {
	f := newFixture(t, Options{ChunkDelay: 30 * time.Millisecond, Chunks: 50})
	ctx, cancel := context.WithCancel(context.Background())
	resp := f.do(req{ctx: ctx, path: "/v1/chat/completions", body: chatBody(`"stream":true`)})
	if got := readEvents(t, resp.Body, 3); len(got) != 3 {
		t.Fatalf("read %d events", len(got))
	}
	cancel()
	resp.Body.Close()
	waitFor(t, "the stream to be cancelled", func() bool { return f.fake.Cancelled() == 1 && f.fake.InFlight() == 0 })
}

func TestCancelledDuringLatency(t *testing.T) {
	f := newFixture(t, Options{Latency: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	hr, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.url+"/v1/models", nil)
	hr.Header.Set("Authorization", "Bearer "+testKey)
	if resp, err := http.DefaultClient.Do(hr); err == nil {
		resp.Body.Close()
	}
	waitFor(t, "the request to be cancelled", func() bool { return f.fake.Cancelled() == 1 })
}

func TestBodyKnobsOverrideOptions(t *testing.T) {
	f := newFixture(t, Options{Chunks: 3, ErrorRate: 1, ErrorStatus: 503})
	status, _, _ := f.call(req{path: "/v1/chat/completions", body: chatBody("")})
	if status != http.StatusServiceUnavailable {
		t.Fatalf("options not applied: %d", status)
	}
	body := chatBody(`"fakellm":{"chunks":5,"error_rate":0}`)
	status, _, b := f.call(req{path: "/v1/chat/completions", body: body, headers: map[string]string{"X-Fake-Chunks": "2"}})
	if status != http.StatusOK || !strings.Contains(string(b), `"content":"`+Text(5)+`"`) {
		t.Errorf("want 5 words from the body knob, got %d %s", status, b)
	}
	status, _, b = f.call(req{path: "/v1/chat/completions", body: chatBody(""),
		headers: map[string]string{"X-Fake-Chunks": "2", "X-Fake-Error-Rate": "0"}})
	if status != http.StatusOK || !strings.Contains(string(b), `"content":"`+Text(2)+`"`) {
		t.Errorf("want 2 words from the header knob, got %d %s", status, b)
	}
}

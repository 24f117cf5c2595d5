package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSplitList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{"a", []string{"a"}},
		{" a , b,,c ", []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		if got := splitList(tt.in); !slices.Equal(got, tt.want) || got == nil {
			t.Errorf("splitList(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--nope"}, {"--chunks", "x"}, {"extra"}, {"--error-status", "200"}, {"--error-rate", "1.5"}} {
		if err := run(args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%v) succeeded", args)
		}
	}
}

func TestRunServesUntilSignal(t *testing.T) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"--listen", "127.0.0.1:0", "--keys", "k1", "--chunks", "2"}, pw, io.Discard)
		pw.Close()
	}()
	// The URL is printed after the signal handler is installed, so the signal below
	// cannot kill the test binary.
	url, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url = strings.TrimSpace(url)
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`
	hr, _ := http.NewRequest(http.MethodPost, url+"/chat/completions", strings.NewReader(body))
	hr.Header.Set("Authorization", "Bearer k1")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"content":"Hello from"`) {
		t.Fatalf("chat: %d %s", resp.StatusCode, b)
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop on SIGTERM")
	}
}

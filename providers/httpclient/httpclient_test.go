package httpclient

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestNewDefaults(t *testing.T) {
	c := New(Options{})
	if c.Timeout != 0 {
		t.Errorf("Timeout = %v, want 0: deadlines come from the context", c.Timeout)
	}
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("Transport is %T", c.Transport)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"MaxIdleConns", tr.MaxIdleConns, DefaultMaxIdleConns},
		{"MaxIdleConnsPerHost", tr.MaxIdleConnsPerHost, DefaultMaxIdleConnsPerHost},
		{"MaxConnsPerHost", tr.MaxConnsPerHost, 0},
		{"IdleConnTimeout", tr.IdleConnTimeout, DefaultIdleConnTimeout},
		{"TLSHandshakeTimeout", tr.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout},
		{"ResponseHeaderTimeout", tr.ResponseHeaderTimeout, time.Duration(0)},
		{"ExpectContinueTimeout", tr.ExpectContinueTimeout, DefaultExpectContinueTimeout},
		{"ForceAttemptHTTP2", tr.ForceAttemptHTTP2, true},
		{"DisableCompression", tr.DisableCompression, true},
		{"SendPingTimeout", tr.HTTP2.SendPingTimeout, DefaultPingTimeout},
		{"DialContext set", tr.DialContext != nil, true},
		{"Proxy set", tr.Proxy != nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestNewOptionsOverride(t *testing.T) {
	tr := NewTransport(Options{MaxIdleConnsPerHost: 8, IdleConnTimeout: time.Second, MaxConnsPerHost: 32})
	if tr.MaxIdleConnsPerHost != 8 || tr.IdleConnTimeout != time.Second || tr.MaxConnsPerHost != 32 {
		t.Errorf("options not applied: %d %v %d", tr.MaxIdleConnsPerHost, tr.IdleConnTimeout, tr.MaxConnsPerHost)
	}
}

func TestNoRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
	}))
	defer srv.Close()
	c := New(Options{})
	defer c.CloseIdleConnections()
	resp, err := c.Post(srv.URL+"/v1/chat/completions", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently {
		t.Errorf("status = %d, want the 301 itself", resp.StatusCode)
	}
}

func TestDefaultIsShared(t *testing.T) {
	if Default() != Default() {
		t.Error("Default returned different clients")
	}
}

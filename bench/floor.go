package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// floorKeysEnv carries the floor's key map, "client=upstream" pairs separated by commas,
// so that no key appears in a process listing.
const floorKeysEnv = "BENCH_FLOOR_KEYS"

// floor is the least a gateway can do: look the client's key up in a map, swap in the
// upstream key, and proxy with httputil.ReverseProxy. Every figure of tollgate is read
// against it.
type floor struct {
	keys  map[string]string
	proxy *httputil.ReverseProxy
}

// newFloor returns the floor proxying to upstream (an origin: scheme://host:port).
func newFloor(upstream *url.URL, keys map[string]string) *floor {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// The same pool sizes as tollgate's upstream transport (providers/httpclient), so
	// neither pays for connection churn the other does not.
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 1024, 256
	tr.DisableCompression = true
	return &floor{keys: keys, proxy: &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(upstream) },
		Transport: tr,
	}}
}

func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	up, found := f.keys[key]
	if !ok || !found {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"message":"invalid key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
		return
	}
	r.Header.Set("Authorization", "Bearer "+up)
	// The proxy streams the request body upstream while the answer may already be on
	// its way back. Without full duplex, net/http's HTTP/1 server may close the request
	// body when the answer starts while the transport still reads it; the transport
	// then closes the upstream connection and the answer breaks (3% of fast streams on
	// this machine).
	http.NewResponseController(w).EnableFullDuplex()
	f.proxy.ServeHTTP(w, r)
}

// parseFloorKeys reads "client=upstream,client=upstream".
func parseFloorKeys(s string) (map[string]string, error) {
	m := map[string]string{}
	for pair := range strings.SplitSeq(s, ",") {
		c, u, ok := strings.Cut(pair, "=")
		if !ok || c == "" || u == "" {
			return nil, errors.New("bad " + floorKeysEnv + ": want client=upstream pairs")
		}
		m[c] = u
	}
	return m, nil
}

// runFloor is the "floor" subcommand: the bench re-executes itself with it, so the floor
// is a process of its own, measured like tollgate. It prints its base URL, then serves
// until SIGTERM or SIGINT.
func runFloor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to listen on")
	upstream := fs.String("upstream", "", "upstream origin, e.g. http://127.0.0.1:9001")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*upstream)
	if err != nil || u.Host == "" {
		return fmt.Errorf("floor: -upstream %q is not an origin URL", *upstream)
	}
	keys, err := parseFloorKeys(os.Getenv(floorKeysEnv))
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newFloor(u, keys), ReadHeaderTimeout: 10 * time.Second}
	fmt.Println("http://" + ln.Addr().String())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// target is one thing the load is sent to: fakellm itself (direct), the floor, or a
// tollgate. Every scenario runs against each target in turn.
type target struct {
	name string
	// base is the origin the load goes to; checkBase the one for the byte check.
	base, checkBase string
	// key is sent as Authorization: Bearer.
	key  string
	proc *proc // nil for direct: there is no gateway process
	// client is this target's own HTTP client, so connection pools are never shared.
	client *http.Client
	// dbURL is a tollgate's store, for counting spend rows after it stopped.
	dbURL string
	// pprof is a tollgate's pprof address with -profile, else empty.
	pprof string
	// ids are a tollgate's key id and project name: its Redis keys contain them.
	ids []string
	// answered counts inference requests that got an HTTP answer (any status),
	// unanswered those that got none (transport errors, client timeouts).
	answered, unanswered atomic.Int64
}

// gateway reports whether the target is a gateway process (floor or tollgate).
func (t *target) gateway() bool { return t.proc != nil }

// tollgate reports whether the target is a tollgate.
func (t *target) tollgate() bool { return strings.HasPrefix(t.name, "tollgate") }

// cpu returns the target process's CPU ticks so far; 0 for direct.
func (t *target) cpu() int64 {
	if t.proc == nil {
		return 0
	}
	n, _ := t.proc.cpuTicks()
	return n
}

// header returns the request headers of the load.
func (t *target) header() http.Header {
	return http.Header{"Authorization": {"Bearer " + t.key}, "Content-Type": {"application/json"}}
}

// count records whether a request got an answer.
func (t *target) count(status int) {
	if status > 0 {
		t.answered.Add(1)
	} else {
		t.unanswered.Add(1)
	}
}

// newClient returns an HTTP client with a pool big enough for the bench's concurrency,
// so the load generator never churns connections.
func newClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 4096, 4096
	tr.DisableCompression = true
	tr.Proxy = nil
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}
}

// binaries are the programs the bench runs.
type binaries struct{ tollgate, fakellm, self string }

// build compiles cmd/tollgate and cmd/fakellm with go build, from the module root, as a
// user would, and installs them and the bench itself (the floor) into dir/bin by copying.
// The copy matters for memory figures: the page cache holds a file the linker has just
// written in 2 MB folios, which a process then maps whole (FilePmdMapped), so a freshly
// linked binary shows up to ~16 MB more RssFile than the same binary installed by a copy,
// as a package, an image or `go install` would leave it.
func build(ctx context.Context, dir string) (binaries, error) {
	out := filepath.Join(dir, "build")
	dir = filepath.Join(dir, "bin")
	root, err := moduleRoot(ctx)
	if err != nil {
		return binaries{}, err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out+string(filepath.Separator), "./cmd/tollgate", "./cmd/fakellm")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return binaries{}, fmt.Errorf("go build: %w\n%s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		return binaries{}, err
	}
	b := binaries{tollgate: filepath.Join(dir, "tollgate"), fakellm: filepath.Join(dir, "fakellm"), self: filepath.Join(dir, "bench")}
	for dst, src := range map[string]string{b.tollgate: filepath.Join(out, "tollgate"), b.fakellm: filepath.Join(out, "fakellm"), b.self: self} {
		if err := install(src, dst); err != nil {
			return binaries{}, err
		}
	}
	return b, nil
}

// install copies the executable src to dst.
func install(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		return fmt.Errorf("installing %s: %w", filepath.Base(dst), err)
	}
	return f.Close()
}

// moduleRoot returns the directory of the tollgate module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run the bench from inside the tollgate module (go env GOMOD: %q, %v)", gomod, err)
	}
	return filepath.Dir(gomod), nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// masterKey returns a fresh TOLLGATE_MASTER_KEY value.
func masterKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// startFakellm runs the cmd/fakellm binary on a free loopback port; it accepts only
// upstreamKey and any model name.
func startFakellm(dir string, bin binaries, upstreamKey string) (*proc, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	p, line, err := startPrinting(procSpec{name: "fakellm", bin: bin.fakellm, logPath: filepath.Join(dir, "fakellm.log"),
		args: []string{"--listen", addr, "--keys", upstreamKey, "--models", "*"}})
	if err != nil {
		return nil, "", err
	}
	origin := strings.TrimSuffix(strings.TrimSuffix(line, "/"), "/v1")
	if err := waitHTTP(context.Background(), origin+"/v1/models",
		http.Header{"Authorization": {"Bearer " + upstreamKey}}, 200, 30*time.Second); err != nil {
		p.kill()
		return nil, "", err
	}
	return p, origin, nil
}

// startFloor runs the floor (the bench binary itself, subcommand floor) in front of
// upstream, accepting clientKey for upstreamKey.
func startFloor(dir, name string, bin binaries, upstream, clientKey, upstreamKey string) (*proc, string, error) {
	return startPrinting(procSpec{name: name, bin: bin.self, logPath: filepath.Join(dir, name+".log"),
		args: []string{"floor", "-upstream", upstream}, env: []string{floorKeysEnv + "=" + clientKey + "=" + upstreamKey}})
}

// adminCall sends one admin API request with the bootstrap token and checks the status.
func adminCall(ctx context.Context, base, token, path, body string, want int) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/admin/v1"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != want {
		return nil, fmt.Errorf("POST %s: status %d: %s", path, resp.StatusCode, buf.String())
	}
	return buf.Bytes(), nil
}

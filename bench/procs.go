package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, which Linux fixes
// at 100 for every userspace-visible interface whatever the kernel's own HZ.
const userHZ = 100

// proc is a child process the bench started and measures.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan error
}

// procSpec says how to start a child process.
type procSpec struct {
	name, bin string
	args, env []string // env is added to the bench's environment
	dir       string   // working directory; empty: the bench's
	logPath   string   // receives stderr, and stdout unless stdout is set
	stdout    io.Writer
}

// startProc starts a child process.
func startProc(s procSpec) (*proc, error) {
	lf, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Env = append(os.Environ(), s.env...)
	cmd.Dir = s.dir
	cmd.Stderr, cmd.Stdout = lf, lf
	if s.stdout != nil {
		cmd.Stdout = s.stdout
	}
	// Children die with the bench, even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("starting %s: %w", s.name, err)
	}
	p := &proc{name: s.name, cmd: cmd, log: lf, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); lf.Close() }()
	return p, nil
}

// startPrinting starts a process that prints its address as the first line of stdout, and
// returns that line.
func startPrinting(s procSpec) (*proc, string, error) {
	pr, pw := io.Pipe()
	s.stdout = pw
	p, err := startProc(s)
	if err != nil {
		return nil, "", err
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		if sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
		close(lines)
		io.Copy(io.Discard, pr)
	}()
	select {
	case line, ok := <-lines:
		if ok {
			return p, line, nil
		}
	case <-time.After(30 * time.Second):
	}
	p.kill()
	return nil, "", fmt.Errorf("%s printed no address; see %s", s.name, s.logPath)
}

// pid returns the process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// cpuTicks returns the process's user plus system CPU time so far, in USER_HZ ticks,
// from /proc/<pid>/stat (all threads).
func (p *proc) cpuTicks() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid()))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime + stime (fields 14 and 15) from a /proc/<pid>/stat line. The
// command name (field 2) may hold spaces and parentheses, so fields are counted from
// the last ')'.
func parseStatCPU(b []byte) (int64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return u + s, nil
}

// memKB returns a field of /proc/<pid>/status in KiB: "VmRSS" (resident now) or "VmHWM"
// (the peak resident set).
func (p *proc) memKB(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		return 0, err
	}
	return parseStatusKB(b, field)
}

func parseStatusKB(b []byte, field string) (int64, error) {
	for line := range strings.SplitSeq(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	return 0, fmt.Errorf("no %s in /proc status", field)
}

// terminate sends SIGTERM and waits up to grace for the process to exit, then kills it.
// It returns the exit error, nil after a clean exit.
func (p *proc) terminate(grace time.Duration) error {
	if p.cmd.ProcessState != nil {
		return nil
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(grace):
		p.kill()
		return fmt.Errorf("%s did not stop within %v of SIGTERM", p.name, grace)
	}
}

// kill stops the process at once and waits for it.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	err := <-p.done
	p.done <- err
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHTTP polls url until it answers want, or the timeout passes.
func waitHTTP(ctx context.Context, url string, header http.Header, want int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		req.Header = header
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer %d within %v (last error: %v)", url, want, timeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

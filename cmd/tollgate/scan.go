package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/tollgate-llm/tollgate/scan"
)

// exitError is an error with the process exit code it calls for.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode is the exit code for a command's error: its own, else 1.
func exitCode(err error) int {
	if e := (*exitError)(nil); errors.As(err, &e) {
		return e.code
	}
	return 1
}

// Exit codes of tollgate scan, for CI.
const (
	scanClean    = 0
	scanFound    = 1
	scanNotFinal = 2
)

type scanFlags struct {
	opts           scan.Options
	asJSON, revoke bool
}

func scanCmd() *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan PATH...",
		Short: "Find leaked tollgate keys and provider keys in files and git history.",
		Long: `Scan files (and, with --git, every commit reachable from any ref) for tollgate keys,
confirmed by their checksum, and for OpenAI, Anthropic, Google, AWS, GitHub, Slack, Stripe,
Groq, xAI and Hugging Face keys. Each finding prints its place, its kind and a redacted hint;
never the secret.

Exit status: 0 nothing found, 1 secrets found, 2 the scan could not complete (or --revoke
failed); findings are still printed then.

--revoke revokes every tollgate key found on the gateway at TOLLGATE_URL, with
TOLLGATE_ADMIN_TOKEN: client and ephemeral keys are revoked (with their children), admin
tokens are deleted.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &exitError{scanNotFinal, errors.New("scan needs at least one PATH")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runScan(cmd, args, f) },
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{scanNotFinal, err} })
	fl := cmd.Flags()
	fl.BoolVar(&f.opts.History, "git", false, "also scan the git history (every commit reachable from any ref)")
	fl.Int64Var(&f.opts.MaxFileSize, "max-size", scan.DefaultMaxFileSize, "skip files larger than this many bytes")
	fl.BoolVar(&f.asJSON, "json", false, "print JSON")
	fl.BoolVar(&f.revoke, "revoke", false, "revoke the tollgate keys found (TOLLGATE_URL, TOLLGATE_ADMIN_TOKEN)")
	return cmd
}

// scanOutput is what --json prints.
type scanOutput struct {
	Findings []scan.Finding `json:"findings"`
	Stats    scan.Stats     `json:"stats"`
	Errors   []string       `json:"errors"`
	Revoked  []revocation   `json:"revoked,omitempty"`
}

func runScan(cmd *cobra.Command, paths []string, f scanFlags) error {
	var client *adminClient
	if f.revoke {
		c, err := newAdminClient()
		if err != nil {
			return &exitError{scanNotFinal, err}
		}
		client = c
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	rep := scan.Scan(ctx, paths, f.opts)
	out := scanOutput{Findings: rep.Findings, Stats: rep.Stats, Errors: []string{}}
	if out.Findings == nil {
		out.Findings = []scan.Finding{}
	}
	for _, err := range rep.Errors {
		out.Errors = append(out.Errors, err.Error())
	}
	if client != nil {
		out.Revoked = revokeFound(ctx, client, rep.Findings)
		for _, r := range out.Revoked {
			if r.Status == "failed" {
				out.Errors = append(out.Errors, "revoking "+r.KeyID+": "+r.Error)
			}
		}
	}
	if err := printScan(cmd, out, f.asJSON); err != nil {
		return &exitError{scanNotFinal, err}
	}
	switch {
	case len(out.Errors) > 0:
		return &exitError{scanNotFinal, fmt.Errorf("the scan is incomplete: %d errors", len(out.Errors))}
	case len(out.Findings) > 0:
		return &exitError{scanFound, fmt.Errorf("%d secrets found", len(out.Findings))}
	}
	return nil
}

func printScan(cmd *cobra.Command, out scanOutput, asJSON bool) error {
	if asJSON {
		return printJSON(cmd, out)
	}
	w, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	for _, f := range out.Findings {
		fmt.Fprintf(w, "%s:%d: %s %s\n", f.Location(), f.Column, f.Kind, f.Hint)
	}
	for _, r := range out.Revoked {
		fmt.Fprintf(w, "%s %s (%s)%s\n", r.Status, r.KeyID, r.Kind, suffix(r.Error))
	}
	for _, e := range out.Errors {
		fmt.Fprintln(errw, "tollgate scan:", e)
	}
	s := out.Stats
	fmt.Fprintf(errw, "scanned %d files (skipped %d binary, %d too large, %d links) and %d commits: %d secrets found\n",
		s.Files, s.Binary, s.TooLarge, s.Symlinks, s.Commits, len(out.Findings))
	return nil
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}

// revocation is what --revoke did to one key.
type revocation struct {
	KeyID string `json:"key_id"`
	Kind  string `json:"kind"`
	// Status is "revoked", "deleted" (an admin token), "not_found" (the gateway does
	// not know the key) or "failed".
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// revokeFound revokes each tollgate key found, once: client and ephemeral keys with
// a reason naming where the key was found, admin tokens by deleting them. Admin tokens
// go last: the token this command runs with may be among them.
func revokeFound(ctx context.Context, c *adminClient, findings []scan.Finding) []revocation {
	var out []revocation
	var tokens []scan.Finding
	done := map[string]bool{}
	for _, f := range findings {
		if !f.IsTollgate() || done[f.KeyID] {
			continue
		}
		done[f.KeyID] = true
		if f.Kind == scan.KindTollgateAdmin {
			tokens = append(tokens, f)
			continue
		}
		where := f.Path
		if f.Commit != "" {
			where = f.Location()
		}
		out = append(out, revokeOne(ctx, c, f, "POST", "/keys/"+url.PathEscape(f.KeyID)+"/revoke",
			map[string]string{"reason": "leaked: found by tollgate scan in " + where}))
	}
	for _, f := range tokens {
		out = append(out, revokeOne(ctx, c, f, "DELETE", "/admin-tokens/"+url.PathEscape(f.KeyID), nil))
	}
	return out
}

func revokeOne(ctx context.Context, c *adminClient, f scan.Finding, method, path string, body any) revocation {
	r := revocation{KeyID: f.KeyID, Kind: f.Kind, Status: "revoked"}
	if method == "DELETE" {
		r.Status = "deleted"
	}
	status, err := c.send(ctx, method, path, body)
	switch {
	case status == http.StatusNotFound:
		r.Status = "not_found"
	case err != nil:
		r.Status, r.Error = "failed", err.Error()
	}
	return r
}

// send makes an admin API call and returns the answer's status; an answer of 300 or
// more is also an error with the API's message.
func (c *adminClient) send(ctx context.Context, method, path string, body any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/admin/v1"+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("calling %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
		return resp.StatusCode, fmt.Errorf("%s (%d)", e.Error.Message, resp.StatusCode)
	}
	return resp.StatusCode, fmt.Errorf("the gateway answered %s", resp.Status)
}

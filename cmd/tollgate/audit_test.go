package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tollgate-llm/tollgate/app"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/store"
	"github.com/tollgate-llm/tollgate/store/storetest"
	"github.com/tollgate-llm/tollgate/telemetry"
)

const (
	cliAdminToken  = "tga_CLIadminTOKN_TESTadminTOKENdoNotUse01234567890000"
	cliProviderKey = "sk-proj-CLIproviderKEYdoNotUse0123456789abcdefghijk"
)

// startCLIGateway serves a gateway on loopback over engine and points the CLI at it.
func startCLIGateway(t *testing.T, engine string) (dbURL string) {
	t.Helper()
	cfg := &configs.Config{Listen: "127.0.0.1:0", DatabaseURL: storetest.URL(t, engine)}
	cfg.SetDefaults()
	env := map[string]string{"TOLLGATE_ADMIN_TOKEN": cliAdminToken}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Options{Config: cfg, Getenv: func(k string) string { return env[k] },
		Log: telemetry.NewLogger(io.Discard, telemetry.ParseLevel("error")), Notice: io.Discard,
		KeyFile: filepath.Join(t.TempDir(), "tollgate.key")})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := app.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })
	t.Setenv("TOLLGATE_URL", "http://"+ln.Addr().String())
	t.Setenv("TOLLGATE_ADMIN_TOKEN", cliAdminToken)
	return cfg.DatabaseURL
}

// run executes a CLI command with args and stdin, and returns what it printed.
func run(t *testing.T, cmd *cobra.Command, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func mustRun(t *testing.T, cmd *cobra.Command, stdin string, args ...string) string {
	t.Helper()
	out, err := run(t, cmd, stdin, args...)
	if err != nil {
		t.Fatalf("tollgate %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TestCLIProvidersVaultAudit drives the providers, vault and audit commands against a
// running gateway, then tampers with the audit log and expects `audit verify` to fail
// naming the row.
func TestCLIProvidersVaultAudit(t *testing.T) {
	for _, engine := range storetest.Engines() {
		t.Run(engine, func(t *testing.T) {
			dbURL := startCLIGateway(t, engine)
			var printed strings.Builder
			printed.WriteString(mustRun(t, providersCmd(), "", "create", "--name", "acme", "--type", "openai",
				"--base-url", "http://127.0.0.1:9/v1", "--header", "X-Team=ml"))
			printed.WriteString(mustRun(t, providersCmd(), cliProviderKey+"\n", "keys", "add", "acme", "--label", "main"))
			list := mustRun(t, providersCmd(), "", "keys", "list", "acme")
			printed.WriteString(list)
			if !strings.Contains(list, "sk-proj-…hijk") || !strings.Contains(list, "main") {
				t.Fatalf("keys list:\n%s", list)
			}
			id := strings.Fields(strings.Split(list, "\n")[1])[0]
			t.Setenv("CLI_ROTATED_KEY", "sk-proj-CLIrotatedKEYdoNotUse0123456789abcdefghij")
			printed.WriteString(mustRun(t, providersCmd(), "", "keys", "rotate", "acme", id, "--secret-env", "CLI_ROTATED_KEY", "--grace", "0s"))
			printed.WriteString(mustRun(t, providersCmd(), "", "keys", "update", "acme", id, "--weight", "5"))
			printed.WriteString(mustRun(t, providersCmd(), "", "update", "acme", "--region", "eu"))
			printed.WriteString(mustRun(t, providersCmd(), "", "list"))
			rotate := mustRun(t, vaultCmd(), "", "rotate")
			status := mustRun(t, vaultCmd(), "", "status")
			if !strings.Contains(rotate, "(version 2)") || !strings.Contains(rotate, " 0 left") || !strings.Contains(status, "sealed values") {
				t.Fatalf("vault:\n%s\n%s", rotate, status)
			}
			audit := mustRun(t, auditCmd(), "", "list", "--action", "provider*")
			if strings.Count(audit, "provider") < 5 {
				t.Fatalf("audit list:\n%s", audit)
			}
			if out := mustRun(t, auditCmd(), "", "verify"); !strings.Contains(out, "intact") {
				t.Fatalf("verify: %s", out)
			}
			for _, s := range []string{cliProviderKey, "sk-proj-CLIrotatedKEYdoNotUse0123456789abcdefghij", cliAdminToken} {
				if strings.Contains(printed.String()+rotate+status+audit, s) {
					t.Fatalf("the CLI printed a secret (%.12s…)", s)
				}
			}

			db, err := store.Open(context.Background(), dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.SQL().ExecContext(context.Background(), `UPDATE audit_log SET target = 'provider:evil' WHERE seq = 2`); err != nil {
				t.Fatal(err)
			}
			out, err := run(t, auditCmd(), "", "verify")
			if err == nil || !strings.Contains(err.Error(), "row 2") {
				t.Fatalf("verify of a tampered chain: %v\n%s", err, out)
			}
		})
	}
}

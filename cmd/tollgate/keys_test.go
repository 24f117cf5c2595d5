package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runJSON runs a CLI command with --json and decodes its output.
func runJSON(t *testing.T, cmd *cobra.Command, out any, args ...string) {
	t.Helper()
	if err := json.Unmarshal([]byte(mustRun(t, cmd, "", append(args, "--json")...)), out); err != nil {
		t.Fatal(err)
	}
}

// cliKey is a key as the CLI prints it with --json.
type cliKey struct {
	ID, Key, Owner, Status string
	Models                 []string
	Limits                 struct{ RPM int }
	Budget                 *struct{ Period string }
	AllowedHours           string `json:"allowed_hours"`
}

func TestKeysCLI(t *testing.T) {
	startCLIGateway(t, "sqlite")
	var k cliKey
	runJSON(t, keysCmd(), &k, "create", "--name", "ci", "--models", "gpt-4o*", "--rpm", "60", "--budget", "10/month",
		"--ttl", "720h", "--project", "web", "--allowed-hours", "08:00-20:00 UTC")
	if !strings.HasPrefix(k.Key, "tgk_") || k.Limits.RPM != 60 || k.Budget.Period != "month" || k.AllowedHours == "" {
		t.Fatalf("created %+v", k)
	}
	id, key := k.ID, k.Key
	k = cliKey{}
	runJSON(t, keysCmd(), &k, "update", id, "--owner", "bob", "--clear", "budget,allowed-hours")
	if k.Owner != "bob" || k.Budget != nil || k.AllowedHours != "" || k.Models[0] != "gpt-4o*" {
		t.Fatalf("updated %+v", k)
	}
	if out := mustRun(t, keysCmd(), "", "list", "--owner", "bob"); !strings.Contains(out, id) || strings.Contains(out, key) {
		t.Fatalf("list:\n%s", out)
	}
	k = cliKey{}
	runJSON(t, keysCmd(), &k, "rotate", id, "--grace", "1h")
	if k.Key == "" || k.Key == key {
		t.Fatal("rotate printed no new key")
	}
	runJSON(t, keysCmd(), &k, "disable", id)
	runJSON(t, keysCmd(), &k, "enable", id)
	if k.Status != "active" {
		t.Fatalf("after enable: %s", k.Status)
	}
	if out := mustRun(t, keysCmd(), "", "revoke-all", "--project", "web", "--reason", "drill"); !strings.Contains(out, "revoked 1 keys") {
		t.Fatalf("revoke-all: %s", out)
	}
	runJSON(t, keysCmd(), &k, "get", id)
	if k.Status != "revoked" {
		t.Fatalf("after revoke-all: %s", k.Status)
	}
	runJSON(t, keysCmd(), &k, "create", "--name", "other")
	runJSON(t, keysCmd(), &k, "revoke", k.ID, "--reason", "test")
	mustRun(t, keysCmd(), "", "delete", k.ID)
	if out := mustRun(t, keysCmd(), "", "list"); strings.Contains(out, k.ID) {
		t.Fatal("a deleted key is listed")
	}
}

func TestProjectsAndAdminTokensCLI(t *testing.T) {
	startCLIGateway(t, "sqlite")
	mustRun(t, projectsCmd(), "", "create", "--name", "web", "--rpm", "100", "--budget", "50/month")
	var p struct {
		Name   string
		Limits *struct{ RPM int }
		Budget *struct{ Period string }
	}
	runJSON(t, projectsCmd(), &p, "update", "web", "--clear", "limits")
	if p.Limits != nil || p.Budget == nil {
		t.Fatalf("project after update %+v", p)
	}
	if out := mustRun(t, projectsCmd(), "", "list"); !strings.Contains(out, "web") || !strings.Contains(out, "50/month") {
		t.Fatalf("projects list:\n%s", out)
	}
	runJSON(t, projectsCmd(), &p, "get", "web")
	mustRun(t, projectsCmd(), "", "delete", "web")

	var tok struct{ ID, Token, Role string }
	runJSON(t, adminTokensCmd(), &tok, "create", "--name", "ops", "--role", "viewer")
	if !strings.HasPrefix(tok.Token, "tga_") || tok.Role != "viewer" {
		t.Fatalf("token %+v", tok)
	}
	if out := mustRun(t, adminTokensCmd(), "", "list"); !strings.Contains(out, tok.ID) || strings.Contains(out, tok.Token) {
		t.Fatalf("token list:\n%s", out)
	}
	// The viewer token may read, not write.
	t.Setenv("TOLLGATE_ADMIN_TOKEN", tok.Token)
	mustRun(t, keysCmd(), "", "list")
	if _, err := run(t, keysCmd(), "", "create", "--name", "x"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("viewer created a key: %v", err)
	}
	t.Setenv("TOLLGATE_ADMIN_TOKEN", cliAdminToken)
	mustRun(t, adminTokensCmd(), "", "delete", tok.ID)
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/keys"
)

func keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage client keys (admin API)."}
	cmd.AddCommand(keysCreateCmd(), keysListCmd(), keysGetCmd(), keysUpdateCmd(), keysRotateCmd(),
		keysRevokeCmd(), keysRevokeAllCmd(), keysDeleteCmd(), keysStatusCmd(false), keysStatusCmd(true))
	return cmd
}

// parseBudget reads "10/month" into a budget.
func parseBudget(s string) (*keys.Budget, error) {
	amount, period, ok := strings.Cut(s, "/")
	if !ok {
		return nil, fmt.Errorf("--budget must look like 10/month (periods: day, week, month, total)")
	}
	return &keys.Budget{LimitUSD: json.Number(amount), Period: period}, nil
}

// limitFlags are the limit, budget and metadata flags of keys and projects.
type limitFlags struct {
	rpm, tpm, parallel int64
	budget, metadata   string
	clear              []string
}

func (l *limitFlags) register(f *pflag.FlagSet) {
	f.Int64Var(&l.rpm, "rpm", 0, "requests per minute")
	f.Int64Var(&l.tpm, "tpm", 0, "tokens per minute")
	f.Int64Var(&l.parallel, "max-parallel", 0, "concurrent requests")
	f.StringVar(&l.budget, "budget", "", "budget in USD per period, e.g. 10/month")
	f.StringVar(&l.metadata, "metadata", "", `metadata, a JSON object such as '{"team":"search"}'`)
}

// fill adds the limit flags that were given to body.
func (l *limitFlags) fill(f *pflag.FlagSet, body map[string]any) error {
	if f.Changed("rpm") || f.Changed("tpm") || f.Changed("max-parallel") {
		body["limits"] = keys.Limits{RPM: l.rpm, TPM: l.tpm, MaxParallel: l.parallel}
	}
	if f.Changed("budget") {
		b, err := parseBudget(l.budget)
		if err != nil {
			return err
		}
		body["budget"] = b
	}
	if f.Changed("metadata") {
		if !json.Valid([]byte(l.metadata)) {
			return fmt.Errorf("--metadata must be a JSON object")
		}
		body["metadata"] = json.RawMessage(l.metadata)
	}
	for _, field := range l.clear {
		body[strings.ReplaceAll(field, "-", "_")] = nil
	}
	return nil
}

// keyFlags are the flags of keys create and keys update; only those given are sent.
type keyFlags struct {
	limitFlags
	strs    map[string]*string
	lists   map[string]*[]string
	canMint bool
}

// keyStringFlags and keyListFlags map flag names to API fields.
var (
	keyStringFlags = [][3]string{{"name", "name", "a name for the key"}, {"project", "project", "project the key belongs to"},
		{"owner", "owner", "owner (a person or team)"}, {"ttl", "ttl", "lifetime, a Go duration such as 720h"},
		{"expires-at", "expires_at", "expiry time, RFC 3339"},
		{"allowed-hours", "allowed_hours", `times of day the key works, e.g. "08:00-20:00 Europe/Paris"`}}
	keyListFlags = [][3]string{{"models", "models", "model glob patterns the key may use (default *)"},
		{"endpoints", "endpoints", "endpoints: chat, completions, embeddings, models (default all)"},
		{"allowed-ips", "allowed_ips", "CIDRs the key may be used from"}}
)

func newKeyFlags(cmd *cobra.Command, update bool) *keyFlags {
	k := &keyFlags{strs: map[string]*string{}, lists: map[string]*[]string{}}
	f := cmd.Flags()
	for _, s := range keyStringFlags {
		k.strs[s[0]] = f.String(s[0], "", s[2])
	}
	for _, s := range keyListFlags {
		k.lists[s[0]] = f.StringSlice(s[0], nil, s[2])
	}
	k.limitFlags.register(f)
	f.BoolVar(&k.canMint, "can-mint", false, "allow minting ephemeral child keys")
	if update {
		f.StringSliceVar(&k.clear, "clear", nil, "fields to clear, e.g. allowed-ips,budget,expires-at")
	}
	return k
}

// body returns the request body of the flags given.
func (k *keyFlags) body(f *pflag.FlagSet) (map[string]any, error) {
	body := map[string]any{}
	for _, s := range keyStringFlags {
		if f.Changed(s[0]) {
			body[s[1]] = *k.strs[s[0]]
		}
	}
	for _, s := range keyListFlags {
		if f.Changed(s[0]) {
			body[s[1]] = *k.lists[s[0]]
		}
	}
	if f.Changed("can-mint") {
		body["can_mint"] = k.canMint
	}
	return body, k.limitFlags.fill(f, body)
}

func showKey(w io.Writer, k keys.KeyView) {
	showClientKeys(w, []keys.KeyView{k})
	if k.Key != "" {
		fmt.Fprintf(w, "\nkey: %s\nThe key is shown once; store it now.\n", k.Key)
	}
}

func showClientKeys(w io.Writer, ks []keys.KeyView) {
	fmt.Fprintln(w, "ID\tNAME\tPROJECT\tOWNER\tSTATUS\tMODELS\tEXPIRES\tHINT")
	for _, k := range ks {
		exp := "-"
		if k.ExpiresAt != nil {
			exp = k.ExpiresAt.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Project, k.Owner, k.Status,
			strings.Join(k.Models, ","), exp, k.Hint)
	}
}

func keysCreateCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "create --name NAME", Short: "Create a client key; the key is printed once.", Args: cobra.NoArgs}
	flags := newKeyFlags(cmd, false)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		body, err := flags.body(cmd.Flags())
		if err != nil {
			return err
		}
		return call(cmd, "POST", "/keys", body, asJSON, showKey)
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.MarkFlagRequired("name")
	return cmd
}

func keysUpdateCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "update ID [flags]", Short: "Change the settings given; --clear resets fields.", Args: cobra.ExactArgs(1)}
	flags := newKeyFlags(cmd, true)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		body, err := flags.body(cmd.Flags())
		if err != nil {
			return err
		}
		return call(cmd, "PATCH", "/keys/"+url.PathEscape(args[0]), body, asJSON, showKey)
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func keysListCmd() *cobra.Command {
	var project, owner, status, createdBy string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List keys (never their secrets).",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{"project": {project}, "owner": {owner}, "status": {status}, "created_by": {createdBy}}
			all, err := listAll[keys.KeyView](cmd, "/keys", q)
			if err != nil {
				return err
			}
			return show(cmd, all, asJSON, showClientKeys)
		},
	}
	f := cmd.Flags()
	f.StringVar(&project, "project", "", "only keys of this project")
	f.StringVar(&owner, "owner", "", "only keys of this owner")
	f.StringVar(&status, "status", "", "only keys with this status (active, disabled, revoked)")
	f.StringVar(&createdBy, "created-by", "", "only keys created by this admin token id")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func keysGetCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "get ID", Short: "Show a key (never its secret).", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "GET", "/keys/"+url.PathEscape(args[0]), nil, asJSON, showKey)
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// keysActionCmd is a command that POSTs {field: --flag} to /keys/ID/action.
func keysActionCmd(use, short, action, field, def, help string) *cobra.Command {
	var value string
	var asJSON bool
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "POST", "/keys/"+url.PathEscape(args[0])+"/"+action, map[string]string{field: value}, asJSON, showKey)
		}}
	cmd.Flags().StringVar(&value, field, def, help)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func keysRotateCmd() *cobra.Command {
	return keysActionCmd("rotate ID --grace 24h", "Give a key a new secret; the old one works until the grace ends.",
		"rotate", "grace", "0s", "how long the old secret keeps working (0s: stop it now)")
}

func keysRevokeCmd() *cobra.Command {
	return keysActionCmd("revoke ID", "Revoke a key and its ephemeral children, at once and for good.",
		"revoke", "reason", "", "why, for the audit log")
}

func keysRevokeAllCmd() *cobra.Command {
	var req admin.BulkRevoke
	var asJSON bool
	cmd := &cobra.Command{Use: "revoke-all --owner|--project|--created-by VALUE",
		Short: "Revoke every key of an owner, a project or a creator (incident response).", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, "POST", "/keys/revoke", req, asJSON, func(w io.Writer, r admin.BulkResult) {
				fmt.Fprintf(w, "revoked %d keys\n", r.Revoked)
			})
		}}
	f := cmd.Flags()
	f.StringVar(&req.Owner, "owner", "", "revoke the keys of this owner")
	f.StringVar(&req.Project, "project", "", "revoke the keys of this project")
	f.StringVar(&req.CreatedBy, "created-by", "", "revoke the keys created by this admin token id")
	f.StringVar(&req.Reason, "reason", "", "why, for the audit log")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	cmd.MarkFlagsOneRequired("owner", "project", "created-by")
	cmd.MarkFlagsMutuallyExclusive("owner", "project", "created-by")
	return cmd
}

func keysDeleteCmd() *cobra.Command {
	return &cobra.Command{Use: "delete ID", Short: "Delete a key; its spend history stays.", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return deleteAndSay(cmd, "/keys/"+url.PathEscape(args[0]), "deleted key "+args[0])
		}}
}

func keysStatusCmd(enable bool) *cobra.Command {
	use, short, path := "disable", "Disable a key until it is enabled again.", "/disable"
	if enable {
		use, short, path = "enable", "Enable a disabled key.", "/enable"
	}
	var asJSON bool
	cmd := &cobra.Command{Use: use + " ID", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "POST", "/keys/"+url.PathEscape(args[0])+path, nil, asJSON, showKey)
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

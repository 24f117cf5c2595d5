package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-llm/tollgate/admin"
)

func providersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "providers", Short: "Manage upstream providers and their keys (admin API)."}
	cmd.AddCommand(providersListCmd(), providersGetCmd(), providersCreateCmd(), providersUpdateCmd(),
		providersDeleteCmd(), providerKeysCmd())
	return cmd
}

// call is a command's admin request: it runs it and prints the answer as JSON or with
// show.
func call[T any](cmd *cobra.Command, method, path string, body any, asJSON bool, show func(io.Writer, T)) error {
	c, err := newAdminClient()
	if err != nil {
		return err
	}
	var out T
	if err := c.do(cmd.Context(), method, path, body, &out); err != nil {
		return err
	}
	if asJSON {
		return printJSON(cmd, out)
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	show(w, out)
	return w.Flush()
}

func showProviders(w io.Writer, ps []admin.ProviderView) {
	fmt.Fprintln(w, "NAME\tTYPE\tBASE URL\tKEYS\tSOURCE")
	for _, p := range ps {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", p.Name, p.Type, p.BaseURL, p.Keys, p.Source)
	}
}

func showKeys(w io.Writer, ks []admin.KeyView) {
	fmt.Fprintln(w, "ID\tLABEL\tHINT\tFINGERPRINT\tWEIGHT\tSTATUS\tDRAIN UNTIL")
	for _, k := range ks {
		hint, drain := k.Hint, ""
		if k.SecretRef != "" {
			hint = k.SecretRef
		}
		if k.DrainUntil != nil {
			drain = k.DrainUntil.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", k.ID, k.Label, hint, k.Fingerprint, k.Weight, k.Status, drain)
	}
}

type list[T any] struct {
	Data []T `json:"data"`
}

func providersListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List providers.", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, "GET", "/providers", nil, asJSON, func(w io.Writer, l list[admin.ProviderView]) { showProviders(w, l.Data) })
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func providersGetCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "get NAME", Short: "Show one provider.", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "GET", "/providers/"+url.PathEscape(args[0]), nil, asJSON,
				func(w io.Writer, p admin.ProviderView) { showProviders(w, []admin.ProviderView{p}) })
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// providerFlags registers the provider fields and returns a function building the
// request from the flags the user set.
func providerFlags(cmd *cobra.Command) func() (admin.ProviderRequest, error) {
	var typ, baseURL, apiVersion, region string
	var headers []string
	f := cmd.Flags()
	f.StringVar(&typ, "type", "", "dialect or catalog type: openai, anthropic, groq, ...")
	f.StringVar(&baseURL, "base-url", "", "base URL, as the provider's SDK calls it")
	f.StringVar(&apiVersion, "api-version", "", "API version (Azure, Anthropic)")
	f.StringVar(&region, "region", "", "region (Bedrock, Vertex)")
	f.StringArrayVar(&headers, "header", nil, "extra upstream header NAME=VALUE (repeatable; never credentials)")
	return func() (admin.ProviderRequest, error) {
		var req admin.ProviderRequest
		for name, dst := range map[string]**string{"type": &req.Type, "base-url": &req.BaseURL,
			"api-version": &req.APIVersion, "region": &req.Region} {
			if f.Changed(name) {
				v, _ := f.GetString(name)
				*dst = &v
			}
		}
		if f.Changed("header") {
			h := map[string]string{}
			for _, kv := range headers {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return req, fmt.Errorf("--header %q must be NAME=VALUE", k)
				}
				h[k] = v
			}
			req.Headers = &h
		}
		return req, nil
	}
}

func providersCreateCmd() *cobra.Command {
	var name string
	var asJSON bool
	cmd := &cobra.Command{Use: "create --name NAME --type TYPE", Short: "Add a provider.", Args: cobra.NoArgs}
	build := providerFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		req, err := build()
		if err != nil {
			return err
		}
		req.Name = &name
		return call(cmd, "POST", "/providers", req, asJSON, func(w io.Writer, p admin.ProviderView) { showProviders(w, []admin.ProviderView{p}) })
	}
	cmd.Flags().StringVar(&name, "name", "", "the provider's name, used by model targets (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func providersUpdateCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "update NAME [--type ...] [--base-url ...]", Short: "Change a provider.", Args: cobra.ExactArgs(1)}
	build := providerFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		req, err := build()
		if err != nil {
			return err
		}
		return call(cmd, "PATCH", "/providers/"+url.PathEscape(args[0]), req, asJSON,
			func(w io.Writer, p admin.ProviderView) { showProviders(w, []admin.ProviderView{p}) })
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func providersDeleteCmd() *cobra.Command {
	return &cobra.Command{Use: "delete NAME", Short: "Delete a provider and its keys.", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "DELETE", "/providers/"+url.PathEscape(args[0]), nil, false,
				func(w io.Writer, _ json.RawMessage) { fmt.Fprintf(w, "deleted provider %s\n", args[0]) })
		}}
}

// readSecret reads a provider key from --secret-env, --secret-file or standard input,
// never from the command line, where it would land in shell history and ps.
func readSecret(cmd *cobra.Command, env, file string) (string, error) {
	switch {
	case env != "":
		if v := os.Getenv(env); v != "" {
			return strings.TrimSpace(v), nil
		}
		return "", fmt.Errorf("the environment variable %s is empty", env)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading the key file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	fmt.Fprintln(cmd.ErrOrStderr(), "paste the provider key, then press Enter:")
	line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if line = strings.TrimSpace(line); line == "" {
		return "", errors.New("no key given (use --secret-env NAME, --secret-file PATH or standard input)")
	}
	return line, nil
}

func providerKeysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage a provider's keys; secrets are read from the environment, a file or stdin."}
	cmd.AddCommand(providerKeysListCmd(), providerKeysAddCmd(), providerKeysUpdateCmd(), providerKeysDeleteCmd(),
		providerKeysRotateCmd())
	return cmd
}

func keysPath(provider string, rest ...string) string {
	p := "/providers/" + url.PathEscape(provider) + "/keys"
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

func providerKeysListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list PROVIDER", Short: "List a provider's keys (fingerprint and hint only).", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "GET", keysPath(args[0]), nil, asJSON, func(w io.Writer, l list[admin.KeyView]) { showKeys(w, l.Data) })
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// secretFlags registers --secret-env and --secret-file and returns a reader of the key.
func secretFlags(cmd *cobra.Command) func() (string, error) {
	var env, file string
	cmd.Flags().StringVar(&env, "secret-env", "", "read the key from this environment variable")
	cmd.Flags().StringVar(&file, "secret-file", "", "read the key from this file")
	return func() (string, error) { return readSecret(cmd, env, file) }
}

func providerKeysAddCmd() *cobra.Command {
	var label string
	var weight int
	var asJSON bool
	cmd := &cobra.Command{Use: "add PROVIDER [--label L] [--weight N]", Short: "Seal and add a key.", Args: cobra.ExactArgs(1)}
	secret := secretFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		s, err := secret()
		if err != nil {
			return err
		}
		body := map[string]any{"secret": s, "label": label, "weight": max(weight, 1)}
		return call(cmd, "POST", keysPath(args[0]), body, asJSON, func(w io.Writer, k admin.KeyView) { showKeys(w, []admin.KeyView{k}) })
	}
	cmd.Flags().StringVar(&label, "label", "", "a name for the key")
	cmd.Flags().IntVar(&weight, "weight", 1, "the key's share of the provider's traffic")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func providerKeysUpdateCmd() *cobra.Command {
	var label, status string
	var weight int
	var asJSON bool
	cmd := &cobra.Command{Use: "update PROVIDER ID [--weight N] [--status active|disabled] [--label L]",
		Short: "Change a key's weight, status or label.", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{}
			f := cmd.Flags()
			for name, v := range map[string]any{"label": label, "status": status, "weight": weight} {
				if f.Changed(name) {
					body[name] = v
				}
			}
			return call(cmd, "PATCH", keysPath(args[0], args[1]), body, asJSON,
				func(w io.Writer, k admin.KeyView) { showKeys(w, []admin.KeyView{k}) })
		}}
	cmd.Flags().StringVar(&label, "label", "", "a name for the key")
	cmd.Flags().StringVar(&status, "status", "", "active or disabled")
	cmd.Flags().IntVar(&weight, "weight", 1, "the key's share of the provider's traffic")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func providerKeysDeleteCmd() *cobra.Command {
	return &cobra.Command{Use: "delete PROVIDER ID", Short: "Delete a key.", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "DELETE", keysPath(args[0], args[1]), nil, false,
				func(w io.Writer, _ json.RawMessage) { fmt.Fprintf(w, "deleted key %s\n", args[1]) })
		}}
}

func providerKeysRotateCmd() *cobra.Command {
	var grace string
	var asJSON bool
	cmd := &cobra.Command{Use: "rotate PROVIDER ID [--grace 1h]",
		Short: "Replace a key: the new key takes over, the old one drains until the grace ends.", Args: cobra.ExactArgs(2)}
	secret := secretFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		s, err := secret()
		if err != nil {
			return err
		}
		return call(cmd, "POST", keysPath(args[0], args[1], "rotate"), map[string]any{"secret": s, "grace": grace}, asJSON,
			func(w io.Writer, k admin.KeyView) { showKeys(w, []admin.KeyView{k}) })
	}
	cmd.Flags().StringVar(&grace, "grace", admin.DefaultKeyGrace.String(), "how long the old key keeps draining (0s: disable it now)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

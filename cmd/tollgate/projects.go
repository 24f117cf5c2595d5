package main

import (
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tollgate-llm/tollgate/admin"
)

func projectsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "projects", Short: "Manage projects: groups of keys with their own limits and budget (admin API)."}
	cmd.AddCommand(projectsCreateCmd(), projectsListCmd(), projectsGetCmd(), projectsUpdateCmd(), projectsDeleteCmd())
	return cmd
}

func showProject(w io.Writer, p admin.ProjectView) { showProjects(w, []admin.ProjectView{p}) }

func showProjects(w io.Writer, ps []admin.ProjectView) {
	fmt.Fprintln(w, "NAME\tRPM\tTPM\tMAX PARALLEL\tBUDGET\tCREATED")
	for _, p := range ps {
		var rpm, tpm, par int64
		if l := p.Limits; l != nil {
			rpm, tpm, par = l.RPM, l.TPM, l.MaxParallel
		}
		budget := "-"
		if b := p.Budget; b != nil {
			budget = b.LimitUSD.String() + "/" + b.Period
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%s\n", p.Name, rpm, tpm, par, budget, p.CreatedAt.Format("2006-01-02"))
	}
}

func projectsCreateCmd() *cobra.Command {
	var name string
	var limits limitFlags
	var asJSON bool
	cmd := &cobra.Command{Use: "create --name NAME", Short: "Define a project.", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body := map[string]any{"name": name}
			if err := limits.fill(cmd.Flags(), body); err != nil {
				return err
			}
			return call(cmd, "POST", "/projects", body, asJSON, showProject)
		}}
	cmd.Flags().StringVar(&name, "name", "", "the project's name (letters, digits, '.', '_', '-')")
	limits.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.MarkFlagRequired("name")
	return cmd
}

func projectsUpdateCmd() *cobra.Command {
	var limits limitFlags
	var asJSON bool
	cmd := &cobra.Command{Use: "update NAME [flags]", Short: "Change a project's limits, budget or metadata.", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{}
			if err := limits.fill(cmd.Flags(), body); err != nil {
				return err
			}
			return call(cmd, "PATCH", "/projects/"+url.PathEscape(args[0]), body, asJSON, showProject)
		}}
	limits.register(cmd.Flags())
	cmd.Flags().StringSliceVar(&limits.clear, "clear", nil, "fields to clear: limits, budget, metadata")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func projectsListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List projects.", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := listAll[admin.ProjectView](cmd, "/projects", url.Values{})
			if err != nil {
				return err
			}
			return show(cmd, all, asJSON, showProjects)
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func projectsGetCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "get NAME", Short: "Show a project.", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "GET", "/projects/"+url.PathEscape(args[0]), nil, asJSON, showProject)
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func projectsDeleteCmd() *cobra.Command {
	return &cobra.Command{Use: "delete NAME", Short: "Delete a project no live key belongs to.", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return deleteAndSay(cmd, "/projects/"+url.PathEscape(args[0]), "deleted project "+args[0])
		}}
}

// listAll reads every page of a list endpoint.
func listAll[T any](cmd *cobra.Command, path string, q url.Values) ([]T, error) {
	c, err := newAdminClient()
	if err != nil {
		return nil, err
	}
	all := []T{}
	for {
		var page struct {
			Data       []T    `json:"data"`
			NextCursor string `json:"next_cursor"`
		}
		if err := c.do(cmd.Context(), "GET", path+"?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		if page.NextCursor == "" {
			return all, nil
		}
		q.Set("cursor", page.NextCursor)
	}
}

// show prints v as JSON or as a table.
func show[T any](cmd *cobra.Command, v T, asJSON bool, table func(io.Writer, T)) error {
	if asJSON {
		return printJSON(cmd, v)
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	table(w, v)
	return w.Flush()
}

// deleteAndSay sends a DELETE and prints what was done.
func deleteAndSay(cmd *cobra.Command, path, done string) error {
	c, err := newAdminClient()
	if err != nil {
		return err
	}
	if err := c.do(cmd.Context(), "DELETE", path, nil, nil); err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), done)
	return nil
}

package main

import (
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-llm/tollgate/billing"
)

// reportFlags are the output flags of the spend and logs commands.
type reportFlags struct {
	asJSON, asCSV bool
}

func (r *reportFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&r.asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&r.asCSV, "csv", false, "print CSV")
	cmd.MarkFlagsMutuallyExclusive("json", "csv")
}

// reportQuery builds the query of the flags that are set, by parameter name.
func reportQuery(flags map[string]*string) url.Values {
	q := url.Values{}
	for k, v := range flags {
		if *v != "" {
			q.Set(k, *v)
		}
	}
	return q
}

// printMore tells how to ask for the next page, when there is one.
func printMore(w io.Writer, cursor string) {
	if cursor != "" {
		fmt.Fprintf(w, "\nmore: --cursor %s\n", cursor)
	}
}

// showReport reads a report as JSON and prints it as a table, JSON or CSV.
func showReport[T any](cmd *cobra.Command, path string, f reportFlags, show func(io.Writer, T), csv func(io.Writer, T) error) error {
	if !f.asCSV {
		return call(cmd, "GET", path, nil, f.asJSON, show)
	}
	c, err := newAdminClient()
	if err != nil {
		return err
	}
	var out T
	if err := c.do(cmd.Context(), "GET", path, nil, &out); err != nil {
		return err
	}
	return csv(cmd.OutOrStdout(), out)
}

func spendCmd() *cobra.Command {
	var p map[string]*string
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "spend",
		Short: "Show spend grouped by key, project, model, provider, day or hour (admin API).",
		Long: "Show spend grouped by key, project, model, provider, day or hour, from the start of the\n" +
			"month (or --from) until now (or --to). Dates are days in the billing time zone.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return showReport(cmd, "/spend?"+reportQuery(p).Encode(), f, showSpend,
				func(w io.Writer, r billing.SpendReport) error { return billing.WriteSpendCSV(w, r) })
		},
	}
	fl := cmd.Flags()
	p = map[string]*string{
		"group_by": fl.String("group-by", "model", "group by key, project, model, provider, day or hour"),
		"from":     fl.String("from", "", "from this day (YYYY-MM-DD) or time (RFC 3339); default: start of the month"),
		"to":       fl.String("to", "", "through this day, or until this time; default: now"),
		"key_id":   fl.String("key", "", "only this key id"),
		"project":  fl.String("project", "", "only this project"),
		"model":    fl.String("model", "", "only this model"),
		"provider": fl.String("provider", "", "only this provider"),
	}
	f.register(cmd)
	return cmd
}

func showSpend(w io.Writer, r billing.SpendReport) {
	fmt.Fprintln(w, "GROUP\tREQUESTS\tPROMPT TOKENS\tCOMPLETION TOKENS\tCACHED TOKENS\tCOST (USD)")
	line := func(group string, row billing.SpendRow) {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%s\n", group, row.Requests, row.PromptTokens, row.CompletionTokens,
			row.CachedTokens, row.CostUSD.Decimal())
	}
	for _, row := range r.Data {
		line(row.Group, row)
	}
	line("TOTAL", r.Total)
}

func logsCmd() *cobra.Command {
	var p map[string]*string
	var limit int
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "List the request log, newest first (admin API): tokens, cost and where they came from.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := reportQuery(p)
			if limit > 0 {
				q.Set("limit", fmt.Sprint(limit))
			}
			return showReport(cmd, "/logs?"+q.Encode(), f, showLogs, func(w io.Writer, page billing.LogPage) error {
				if page.NextCursor != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "more: --cursor %s\n", page.NextCursor)
				}
				return billing.WriteLogsCSV(w, page.Data)
			})
		},
	}
	fl := cmd.Flags()
	p = map[string]*string{
		"from":   fl.String("from", "", "only requests at or after this day (YYYY-MM-DD) or time (RFC 3339)"),
		"to":     fl.String("to", "", "only requests through this day, or before this time"),
		"key_id": fl.String("key", "", "only this key id"),
		"status": fl.String("status", "", "only this status (429) or class (5xx)"),
		"cursor": fl.String("cursor", "", "the next page after this cursor"),
	}
	fl.IntVar(&limit, "limit", 0, "rows per page (default 100, at most 1000)")
	f.register(cmd)
	return cmd
}

func showLogs(w io.Writer, page billing.LogPage) {
	fmt.Fprintln(w, "TIME\tREQUEST\tKEY\tMODEL\tPROVIDER\tSTATUS\tPROMPT\tCOMPLETION\tCACHED\tCOST (USD)\tUSAGE\tLATENCY")
	for _, r := range page.Data {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%dms\n", r.Time.Format(time.RFC3339), r.RequestID,
			r.KeyID, r.Model, r.Provider, r.Status, r.PromptTokens, r.CompletionTokens, r.CachedTokens,
			r.CostUSD.Decimal(), r.UsageSource, r.LatencyMS)
	}
	printMore(w, page.NextCursor)
}

package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-llm/tollgate/admin"
)

func anomaliesCmd() *cobra.Command {
	var from, to, keyID, severity, cursor string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "anomalies",
		Short: "List the anomaly detectors' findings, newest first (admin API).",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := reportQuery(map[string]*string{"from": &from, "to": &to, "key_id": &keyID, "severity": &severity,
				"cursor": &cursor})
			if limit > 0 {
				q.Set("limit", fmt.Sprint(limit))
			}
			return call(cmd, "GET", "/anomalies?"+q.Encode(), nil, asJSON, showAnomalies)
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "only findings at or after this time (RFC 3339 or a date)")
	f.StringVar(&to, "to", "", "only findings before this time (RFC 3339 or a date)")
	f.StringVar(&keyID, "key", "", "only findings about this key id")
	f.StringVar(&severity, "severity", "", "the lowest severity to list: low, medium or high")
	f.StringVar(&cursor, "cursor", "", "the next page after this cursor")
	f.IntVar(&limit, "limit", 0, "findings per page (default 100, at most 1000)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func showAnomalies(w io.Writer, page admin.AnomalyPage) {
	fmt.Fprintln(w, "TIME\tKEY\tKIND\tSEVERITY\tACTION\tSUMMARY")
	for _, a := range page.Data {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Time.Format(time.RFC3339), a.KeyID, a.Kind, a.Severity,
			a.Action, a.Summary)
	}
	printMore(w, page.NextCursor)
}

package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-llm/tollgate/admin"
)

func anomaliesCmd() *cobra.Command {
	var p *pageFlags
	cmd := &cobra.Command{
		Use:   "anomalies",
		Short: "List the anomaly detectors' findings, newest first (admin API).",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, "GET", "/anomalies?"+p.query(), nil, p.asJSON, showAnomalies)
		},
	}
	p = addPageFlags(cmd, "findings",
		pageFilter{"key_id", "key", "only findings about this key id"},
		pageFilter{"severity", "severity", "the lowest severity to list: low, medium or high"})
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

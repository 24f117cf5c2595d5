package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-llm/tollgate/audit"
)

func auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read and verify the hash-chained audit log (admin API)."}
	cmd.AddCommand(auditListCmd(), auditVerifyCmd())
	return cmd
}

func auditListCmd() *cobra.Command {
	var p *pageFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List audit events, newest first.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, "GET", "/audit?"+p.query(), nil, p.asJSON, showAudit)
		},
	}
	p = addPageFlags(cmd, "events",
		pageFilter{"actor", "actor", "only events by this actor id or name"},
		pageFilter{"action", "action", "only this action, or a prefix ending in * (key.*)"})
	return cmd
}

func showAudit(w io.Writer, page audit.Page) {
	fmt.Fprintln(w, "SEQ\tTIME\tACTOR\tACTION\tTARGET\tSOURCE IP\tREQUEST")
	for _, e := range page.Data {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Format(time.RFC3339), e.ActorID, e.Action,
			e.Target, e.SourceIP, e.RequestID)
	}
	printMore(w, page.NextCursor)
}

func auditVerifyCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit chain; print the first broken row and exit non-zero if there is one.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newAdminClient()
			if err != nil {
				return err
			}
			var res audit.Result
			if err := c.do(cmd.Context(), "GET", "/audit/verify", nil, &res); err != nil {
				return err
			}
			if asJSON {
				if err := printJSON(cmd, res); err != nil {
					return err
				}
			} else if res.OK {
				fmt.Fprintf(cmd.OutOrStdout(), "audit chain intact: %d rows, head %d %s\n", res.Rows, res.LastSeq, res.LastHash)
			}
			if !res.OK {
				if res.Broken == nil {
					return fmt.Errorf("audit chain broken")
				}
				return fmt.Errorf("audit chain broken at row %d (%s): %s", res.Broken.Seq, res.Broken.Problem, res.Broken.Message)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

package main

import (
	"fmt"
	"io"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/tollgate-llm/tollgate/keys"
)

func adminTokensCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "admin-tokens", Short: "Manage admin tokens (admin API)."}
	cmd.AddCommand(adminTokensCreateCmd(), adminTokensListCmd(), adminTokensDeleteCmd())
	return cmd
}

func showTokens(w io.Writer, ts []keys.TokenView) {
	fmt.Fprintln(w, "ID\tNAME\tROLE\tSTATUS\tCREATED BY\tCREATED\tHINT")
	for _, t := range ts {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.Status, t.CreatedBy,
			t.CreatedAt.Format("2006-01-02 15:04"), t.Hint)
	}
}

func adminTokensCreateCmd() *cobra.Command {
	var req keys.TokenRequest
	var asJSON bool
	cmd := &cobra.Command{Use: "create --name NAME --role admin|viewer", Short: "Create an admin token; it is printed once.",
		Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, "POST", "/admin-tokens", req, asJSON, func(w io.Writer, t keys.TokenView) {
				showTokens(w, []keys.TokenView{t})
				fmt.Fprintf(w, "\ntoken: %s\nThe token is shown once; store it now.\n", t.Token)
			})
		}}
	cmd.Flags().StringVar(&req.Name, "name", "", "a name for the token")
	cmd.Flags().StringVar(&req.Role, "role", "", "admin (read and write) or viewer (read only)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.MarkFlagRequired("name")
	cmd.MarkFlagRequired("role")
	return cmd
}

func adminTokensListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List admin tokens (never the tokens themselves).", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := listAll[keys.TokenView](cmd, "/admin-tokens", url.Values{})
			if err != nil {
				return err
			}
			return show(cmd, all, asJSON, showTokens)
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func adminTokensDeleteCmd() *cobra.Command {
	return &cobra.Command{Use: "delete ID", Short: "Delete an admin token; it stops working everywhere.", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return deleteAndSay(cmd, "/admin-tokens/"+url.PathEscape(args[0]), "deleted admin token "+args[0])
		}}
}

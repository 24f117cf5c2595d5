package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tollgate-llm/tollgate/admin"
)

func vaultCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "vault", Short: "Inspect the vault and rotate its key encryption key (admin API)."}
	cmd.AddCommand(vaultStatusCmd(), vaultRotateCmd())
	return cmd
}

func vaultStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "status", Short: "Show the KEK versions and how many sealed values each one holds.", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, "GET", "/vault/status", nil, asJSON, showVaultStatus)
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func showVaultStatus(w io.Writer, st admin.VaultStatus) {
	fmt.Fprintf(w, "root key: %s\ncurrent KEK: %s\n\n", st.RootSource, st.CurrentKEK)
	fmt.Fprintln(w, "KEK\tVERSION\tCURRENT\tROWS")
	for _, k := range st.KEKs {
		version := fmt.Sprint(k.Version)
		if k.Root {
			version = "root"
		}
		fmt.Fprintf(w, "%s\t%s\t%v\t%d\n", k.ID, version, k.Current, k.Rows)
	}
	fmt.Fprintf(w, "\n%d sealed values", st.Total)
	if st.Unreadable+st.Unopenable > 0 {
		fmt.Fprintf(w, "; %d NOT IN A SEALED FORMAT, %d DO NOT OPEN", st.Unreadable, st.Unopenable)
	}
	fmt.Fprintln(w)
}

func vaultRotateCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "rotate", Short: "Add a new KEK version and rewrap every data key onto it, online.", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, "POST", "/vault/rotate", struct{}{}, asJSON, func(w io.Writer, res admin.RotateResult) {
				fmt.Fprintf(w, "new KEK %s (version %d), was %s; %d values rewrapped, %d left on older KEKs\n",
					res.KEK.ID, res.KEK.Version, res.PreviousKEK, res.Rewrapped, res.Remaining)
			})
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

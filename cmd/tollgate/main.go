// Command tollgate is the gateway and its command line: serve, and a command for every
// admin API call. It wires dependencies and has no logic of its own.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	root := &cobra.Command{
		Use:           "tollgate",
		Short:         "A self-hosted LLM gateway: one OpenAI-compatible endpoint, keys, limits, budgets and a vault.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), keysCmd(), versionCmd())
	root.AddCommand(providersCmd(), vaultCmd(), auditCmd())
	root.AddCommand(projectsCmd(), adminTokensCmd(), modelsCmd())
	root.AddCommand(spendCmd(), logsCmd())
	root.AddCommand(scanCmd())
	root.AddCommand(anomaliesCmd())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "tollgate:", err)
		os.Exit(exitCode(err))
	}
}

func versionCmd() *cobra.Command {
	return &cobra.Command{Use: "version", Short: "Print the version.", Args: cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "tollgate", version) }}
}

package main

import (
	"cmp"
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tollgate-llm/tollgate/app"
	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/telemetry"
)

func serveCmd() *cobra.Command {
	var configPath string
	var demo bool
	var pprofAddr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway.",
		Long: "Run the gateway on 127.0.0.1:8080 (listen: or TOLLGATE_LISTEN). With no config file, providers are\n" +
			"detected from OPENAI_API_KEY, GROQ_API_KEY, ... --demo adds an in-process fake provider on loopback.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := configs.LoadFromEnv(configPath)
			if err != nil {
				return err
			}
			cfg.Demo = demo
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := telemetry.NewLoggerFormat(os.Stderr, telemetry.ParseLevel(cfg.Log.Level), cfg.Log.Format)
			if pprofAddr = cmp.Or(pprofAddr, os.Getenv("TOLLGATE_PPROF")); pprofAddr != "" {
				if err := startPprof(ctx, pprofAddr, log); err != nil {
					return err
				}
			}
			a, err := app.New(ctx, app.Options{Config: cfg, Log: log, Notice: cmd.OutOrStdout()})
			if err != nil {
				return err
			}
			defer a.Close()
			ln, err := app.Listen(cfg.Listen)
			if err != nil {
				return err
			}
			return a.Run(ctx, ln)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "config file (default $TOLLGATE_CONFIG)")
	cmd.Flags().StringVar(&pprofAddr, "pprof", "", "serve net/http/pprof on this loopback address, e.g. 127.0.0.1:6060 (default $TOLLGATE_PPROF)")
	cmd.Flags().BoolVar(&demo, "demo", false, "also run a fake provider on loopback with demo models, and print a client key")
	return cmd
}

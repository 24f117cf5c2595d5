package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-llm/tollgate/admin"
	"github.com/tollgate-llm/tollgate/router"
)

func modelsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "models", Short: "Manage models (routes) and see their live health (admin API)."}
	cmd.AddCommand(modelsStatusCmd(), modelsListCmd(), modelsGetCmd(), modelsCreateCmd(), modelsUpdateCmd(),
		modelsDeleteCmd())
	return cmd
}

func modelsStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "status", Short: "Show every target's live health: breaker, latency, errors, in flight, keys.",
		Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, "GET", "/models", nil, asJSON, func(w io.Writer, l list[admin.ModelView]) { showStatus(w, l.Data) })
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// showStatus prints one row per target.
func showStatus(w io.Writer, ms []admin.ModelView) {
	fmt.Fprintln(w, "MODEL\tTARGET\tSTATE\tLATENCY\tERRORS\tIN FLIGHT\tKEYS")
	for _, m := range ms {
		for _, t := range m.Targets {
			h := t.Health
			if h == nil {
				fmt.Fprintf(w, "%s\t%s/%s\tnot routed\t-\t-\t-\t-\n", m.Name, t.Provider, t.Model)
				continue
			}
			fmt.Fprintf(w, "%s\t%s/%s\t%s\t%s\t%.1f%%\t%d\t%s\n", m.Name, t.Provider, t.Model, stateText(h),
				latencyText(h.LatencyMS), 100*h.ErrorRate, h.InFlight, keysText(h.Keys))
		}
	}
}

func stateText(h *router.TargetHealth) string {
	s := h.State
	if h.Remote {
		s += " (other replica)"
	}
	if h.RetryAt != nil {
		s += " until " + h.RetryAt.Local().Format(time.TimeOnly)
	}
	return s
}

func latencyText(ms float64) string {
	if ms == 0 {
		return "-"
	}
	d := time.Duration(ms * float64(time.Millisecond))
	if d < 10*time.Millisecond {
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// keysText counts keys by state: "2 active, 1 disabled".
func keysText(ks []router.KeyStatus) string {
	if len(ks) == 0 {
		return "-"
	}
	var order []string
	n := map[string]int{}
	for _, k := range ks {
		if n[k.State] == 0 {
			order = append(order, k.State)
		}
		n[k.State]++
	}
	parts := make([]string, len(order))
	for i, s := range order {
		parts[i] = fmt.Sprintf("%d %s", n[s], s)
	}
	return strings.Join(parts, ", ")
}

func showModels(w io.Writer, ms []admin.ModelView) {
	fmt.Fprintln(w, "NAME\tSTRATEGY\tTARGETS\tFALLBACKS\tTIMEOUT\tRETRIES\tSOURCE")
	for _, m := range ms {
		targets := make([]string, len(m.Targets))
		for i, t := range m.Targets {
			targets[i] = fmt.Sprintf("%s/%s", t.Provider, t.Model)
		}
		timeout := m.Timeout
		if timeout == "" {
			timeout = "default"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", m.Name, m.Strategy, strings.Join(targets, ","),
			strings.Join(m.Fallbacks, ","), timeout, m.Retries, m.Source)
	}
}

func modelsListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "list", Short: "List models.", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(cmd, "GET", "/models", nil, asJSON, func(w io.Writer, l list[admin.ModelView]) { showModels(w, l.Data) })
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func modelsGetCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "get NAME", Short: "Show a model and its targets' health.", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "GET", "/models/"+escapeModel(args[0]), nil, asJSON, func(w io.Writer, m admin.ModelView) {
				showStatus(w, []admin.ModelView{m})
			})
		}}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// escapeModel escapes a model name for the URL path, keeping its slashes.
func escapeModel(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// modelFlags registers the flags of create and update and returns a function that
// builds the patch of the flags that were set.
func modelFlags(cmd *cobra.Command) func() (admin.ModelPatch, error) {
	var strategy, timeout, input, output string
	var targets, fallbacks []string
	var retries int
	f := cmd.Flags()
	f.StringVar(&strategy, "strategy", "", "weighted (default), round_robin, least_latency, least_busy, lowest_cost or priority")
	f.StringArrayVar(&targets, "target", nil, "a target, PROVIDER:MODEL[:WEIGHT[:PRIORITY]]; repeat for several")
	f.StringArrayVar(&fallbacks, "fallback", nil, "a model to fall back to; repeat for several, tried in order")
	f.StringVar(&timeout, "timeout", "", "the request deadline, a Go duration such as 90s")
	f.IntVar(&retries, "retries", 2, "attempts after the first, before the fallbacks")
	f.StringVar(&input, "input-price", "", "price override in USD per million prompt tokens")
	f.StringVar(&output, "output-price", "", "price override in USD per million completion tokens")
	return func() (admin.ModelPatch, error) {
		var p admin.ModelPatch
		if f.Changed("strategy") {
			p.Strategy = &strategy
		}
		if f.Changed("target") {
			ts, err := parseTargets(targets)
			if err != nil {
				return p, err
			}
			p.Targets = &ts
		}
		if f.Changed("fallback") {
			p.Fallbacks = &fallbacks
		}
		if f.Changed("timeout") {
			p.Timeout = &timeout
		}
		if f.Changed("retries") {
			p.Retries = &retries
		}
		if f.Changed("input-price") || f.Changed("output-price") {
			p.Pricing = &admin.Pricing{InputPerMTok: json.Number(input), OutputPerMTok: json.Number(output)}
		}
		return p, nil
	}
}

// parseTargets reads PROVIDER:MODEL[:WEIGHT[:PRIORITY]] flags. A model name may hold
// colons (Ollama tags), so weight and priority are only the trailing numbers.
func parseTargets(flags []string) ([]admin.TargetSpec, error) {
	out := make([]admin.TargetSpec, 0, len(flags))
	for _, s := range flags {
		provider, rest, ok := strings.Cut(s, ":")
		if !ok || provider == "" || rest == "" {
			return nil, fmt.Errorf("--target %q: want PROVIDER:MODEL[:WEIGHT[:PRIORITY]]", s)
		}
		t := admin.TargetSpec{Provider: provider, Model: rest}
		nums := []*int{&t.Weight, &t.Priority}
		parts := strings.Split(rest, ":")
		var n []int
		for len(parts) > 1 && len(n) < 2 {
			v, err := strconv.Atoi(parts[len(parts)-1])
			if err != nil {
				break
			}
			n = append([]int{v}, n...)
			parts = parts[:len(parts)-1]
		}
		for i, v := range n {
			*nums[i] = v
		}
		t.Model = strings.Join(parts, ":")
		out = append(out, t)
	}
	return out, nil
}

func modelsCreateCmd() *cobra.Command {
	var name string
	var asJSON bool
	cmd := &cobra.Command{Use: "create --name NAME --target PROVIDER:MODEL ...", Short: "Add a model.", Args: cobra.NoArgs}
	build := modelFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		p, err := build()
		if err != nil {
			return err
		}
		spec := admin.ModelSpec{Name: name, Retries: p.Retries}
		if spec, err = applyFlags(spec, p); err != nil {
			return err
		}
		return call(cmd, "POST", "/models", spec, asJSON, func(w io.Writer, m admin.ModelView) { showModels(w, []admin.ModelView{m}) })
	}
	cmd.Flags().StringVar(&name, "name", "", "the model name clients send (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.MarkFlagRequired("name")
	return cmd
}

// applyFlags copies the patch's fields into a new model's spec.
func applyFlags(spec admin.ModelSpec, p admin.ModelPatch) (admin.ModelSpec, error) {
	if p.Targets == nil {
		return spec, fmt.Errorf("a model needs at least one --target")
	}
	spec.Targets = *p.Targets
	if p.Strategy != nil {
		spec.Strategy = *p.Strategy
	}
	if p.Fallbacks != nil {
		spec.Fallbacks = *p.Fallbacks
	}
	if p.Timeout != nil {
		spec.Timeout = *p.Timeout
	}
	spec.Pricing = p.Pricing
	return spec, nil
}

func modelsUpdateCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{Use: "update NAME [--target ...] [--strategy ...]", Short: "Change a model's fields that are given.",
		Args: cobra.ExactArgs(1)}
	build := modelFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		p, err := build()
		if err != nil {
			return err
		}
		return call(cmd, "PATCH", "/models/"+escapeModel(args[0]), p, asJSON,
			func(w io.Writer, m admin.ModelView) { showModels(w, []admin.ModelView{m}) })
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func modelsDeleteCmd() *cobra.Command {
	return &cobra.Command{Use: "delete NAME", Short: "Delete a model defined through the API.", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newAdminClient()
			if err != nil {
				return err
			}
			if err := c.do(cmd.Context(), "DELETE", "/models/"+escapeModel(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted model %s\n", args[0])
			return nil
		}}
}

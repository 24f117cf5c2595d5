package app

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/fakellm"
	"github.com/tollgate-llm/tollgate/keys"
)

// demoProviderKeyEnv names the made-up credential the demo's fake provider accepts. It
// is not a secret: the fake provider runs in this process on loopback.
const demoProviderKeyEnv = "TOLLGATE_DEMO_PROVIDER_KEY"

// demoModels are the routes --demo adds, each served by the in-process fake provider.
var demoModels = []string{"gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "gpt-3.5-turbo-instruct"}

// startDemo starts the fake provider on loopback and adds it and its models to the
// config. It returns the admin token to use: the configured one, or a new one for this
// run.
func (a *App) startDemo(adminToken string, getenv func(string) string) (string, error) {
	a.Fake = fakellm.New(fakellm.Options{Models: demoModels, Keys: []string{getenv(demoProviderKeyEnv)}})
	base, err := a.Fake.Start("127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("starting the demo provider: %w", err)
	}
	a.closer = append(a.closer, a.Fake.Close)
	cfg := a.cfg
	cfg.Providers = append(cfg.Providers, configs.Provider{Name: "demo", Type: "openai", BaseURL: base,
		Keys: []configs.ProviderKey{{Secret: configs.EnvRef(demoProviderKeyEnv), Weight: 1}}})
	for _, m := range demoModels {
		cfg.Models = append(cfg.Models, configs.Model{Name: m, Targets: []configs.Target{{Provider: "demo", Model: m, Weight: 1}}})
	}
	if adminToken == "" {
		_, tok, err := newAdminToken()
		if err != nil {
			return "", err
		}
		a.DemoAdminToken = tok
		adminToken = tok
	}
	return adminToken, nil
}

func newAdminToken() (id, token string, err error) {
	token, id, err = keys.Generate(keys.KindAdmin)
	return id, token, err
}

// createDemoKey makes a client key for the demo and prints it with a ready command.
func (a *App) createDemoKey(ctx context.Context, w io.Writer, adminToken string) error {
	v, err := a.Keys.Create(ctx, keys.CreateRequest{Name: "demo", Project: "demo"}, "demo")
	if err != nil {
		return fmt.Errorf("creating the demo key: %w", err)
	}
	a.DemoKey = v.Key
	fmt.Fprintf(w, "\ntollgate demo: a fake provider is serving %v on loopback.\n\n", demoModels)
	fmt.Fprintf(w, "  client key (shown once): %s\n", v.Key)
	if a.DemoAdminToken != "" {
		fmt.Fprintf(w, "  admin token (this run only): %s\n", a.DemoAdminToken)
	}
	fmt.Fprintf(w, "\n  curl http://%s/v1/chat/completions \\\n    -H \"Authorization: Bearer %s\" \\\n"+
		"    -H 'Content-Type: application/json' \\\n    -d '{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n\n",
		a.cfg.Listen, v.Key)
	return nil
}

// demoGetenv supplies the demo provider's credential on top of the real environment.
func demoGetenv(getenv func(string) string) func(string) string {
	var b [16]byte
	rand.Read(b[:])
	cred := fmt.Sprintf("demo-%x", b)
	return func(k string) string {
		if k == demoProviderKeyEnv {
			return cred
		}
		return getenv(k)
	}
}

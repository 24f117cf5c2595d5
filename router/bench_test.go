package router

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tollgate-llm/tollgate/configs"
	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/schema"
)

// benchRoute is a model with three healthy targets of two keys each.
func benchRoute(strategy string) (*Router, *Route) {
	rt := &Route{Name: "m", Strategy: strategy}
	for i, name := range []string{"a", "b", "c"} {
		d := &Deployment{Name: name, Type: "openai", Keys: []Credential{{ID: "k0", Weight: 1}, {ID: "k1", Weight: 2}}}
		rt.Targets = append(rt.Targets, &Target{Deployment: d, Model: "m", Weight: i + 1, Priority: i % 2,
			Price: &Price{InputPerMTok: int64(3-i) * 1e9}})
	}
	r := New([]*Route{rt}, Options{})
	for i, t := range rt.Targets {
		t.st.ewma.Store(int64(i+1) * int64(time.Millisecond))
	}
	return r, rt
}

// BenchmarkSelect measures one selection: health filter (breakers, keys), the policy,
// and the key pick, as the request path runs it.
func BenchmarkSelect(b *testing.B) {
	for _, s := range configs.Strategies() {
		b.Run(s, func(b *testing.B) {
			r, rt := benchRoute(s)
			c := &call{r: r}
			b.ReportAllocs()
			for b.Loop() {
				if t, _, _ := c.choose(rt, time.Now().UnixNano()); t == nil {
					b.Fatal("nothing chosen")
				}
			}
		})
	}
}

// BenchmarkBreaker measures taking a breaker slot and reporting a success, the
// gobreaker part of every attempt, alone and from every core at once on one target.
func BenchmarkBreaker(b *testing.B) {
	r, rt := benchRoute("weighted")
	br := rt.Targets[0].st.br
	_ = r
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			done, ok := br.allow()
			if !ok {
				b.Fatal("refused")
			}
			done(nil)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				done, _ := br.allow()
				done(nil)
			}
		})
	})
	b.Run("available", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !br.available(time.Now().UnixNano()) {
				b.Fatal("unavailable")
			}
		}
	})
}

// cannedProvider answers at once with fixed bytes, so that BenchmarkComplete measures
// the router's own work per request: lookup, selection, breakers, attempt bookkeeping.
type cannedProvider struct{ resp schema.Response }

func (p *cannedProvider) Complete(context.Context, *providers.Call) (*schema.Response, error) {
	return &p.resp, nil
}

func (p *cannedProvider) Stream(context.Context, *providers.Call) (schema.Stream, error) {
	return nil, errors.New("not streamed")
}

// BenchmarkComplete is one non-streamed request through the router with an upstream
// that costs nothing, serially and from every core at once.
func BenchmarkComplete(b *testing.B) {
	r, rt := benchRoute("weighted")
	for _, t := range rt.Targets {
		t.Deployment.Provider = &cannedProvider{resp: schema.Response{Body: []byte(`{}`)}}
	}
	req := &schema.Request{Endpoint: schema.EndpointChat, Model: "m", Body: []byte(`{}`)}
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := r.Complete(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Complete(ctx, req)
			}
		})
	})
}

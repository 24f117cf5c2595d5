package detect

import (
	"fmt"
	"net/netip"
	"time"
)

// score compares a closed window with the key's baselines.
func (d *Detector) score(st *keyState, w windowAcc, x [nSignals]float64, start time.Time) []Finding {
	var anomalous [nSignals]bool
	var out []Finding
	end := start.Add(d.cfg.Window)
	floors := [nSignals]float64{float64(d.cfg.MinRequests), float64(d.cfg.MinTokens), float64(d.cfg.MinCostNano),
		d.cfg.MinErrorRatio, float64(d.cfg.MinIPs)}
	z := [nSignals]float64{}
	for sig := range nSignals {
		b := &st.base[sig]
		z[sig] = b.z(x[sig], st.floor(sig, x[sigRequests]))
		anomalous[sig] = x[sig] >= floors[sig] && z[sig] >= d.cfg.Z && b.ratio(x[sig], 1e-9) >= d.cfg.MinRatio
	}
	anomalous[sigErrorRatio] = anomalous[sigErrorRatio] && w.errors >= d.cfg.MinErrors
	if f, ok := d.volume(st, x, z, anomalous, start, end); ok {
		out = append(out, d.raise(st, f)...)
	}
	if anomalous[sigErrorRatio] {
		sev := SeverityMedium
		if x[sigErrorRatio] >= 0.9 && w.errors >= 5*d.cfg.MinErrors {
			sev = SeverityHigh
		}
		out = append(out, d.raise(st, Finding{Time: end, Kind: KindErrorBurst, Severity: sev, Score: z[sigErrorRatio],
			WindowStart: start, Summary: fmt.Sprintf("%d of %d requests failed (%.0f%%) against a baseline of %.1f%%",
				w.errors, w.requests, 100*x[sigErrorRatio], 100*st.base[sigErrorRatio].mean),
			Details: signalDetails(st, x, z, sigErrorRatio)})...)
	}
	if anomalous[sigIPs] {
		sev := SeverityMedium
		if st.base[sigIPs].ratio(x[sigIPs], 1) >= 2*d.cfg.HighRatio {
			sev = SeverityHigh
		}
		out = append(out, d.raise(st, Finding{Time: end, Kind: KindIPSpread, Severity: sev, Score: z[sigIPs],
			WindowStart: start, Summary: fmt.Sprintf("%.0f distinct source addresses against a baseline of %.1f",
				x[sigIPs], st.base[sigIPs].mean), Details: signalDetails(st, x, z, sigIPs)})...)
	}
	return out
}

// volume is one finding for requests, tokens and cost together: a spike usually moves
// all three, and is one event.
func (d *Detector) volume(st *keyState, x, z [nSignals]float64, anomalous [nSignals]bool, start, end time.Time) (Finding, bool) {
	f := Finding{Time: end, Kind: KindVolumeSpike, Severity: SeverityLow, WindowStart: start,
		Details: map[string]any{}}
	top, ratio := -1, 0.0
	for _, sig := range []int{sigRequests, sigTokens, sigCost} {
		if !anomalous[sig] {
			continue
		}
		for k, v := range signalDetails(st, x, z, sig) {
			f.Details[k] = v
		}
		if r := st.base[sig].ratio(x[sig], 1e-9); top < 0 || z[sig] > f.Score {
			top, f.Score, ratio = sig, z[sig], r
		}
	}
	if top < 0 {
		st.sumsHigh = false
		return f, false
	}
	if !anomalous[sigRequests] && !st.sumsHigh {
		// Tokens or cost alone: a couple of very large prompts can make one such
		// minute; a second one in a row is a change.
		st.sumsHigh = true
		return f, false
	}
	st.sumsHigh = false
	switch {
	case ratio >= d.cfg.HighRatio:
		f.Severity = SeverityHigh
	case ratio >= (d.cfg.MinRatio+d.cfg.HighRatio)/2:
		f.Severity = SeverityMedium
	}
	f.Summary = fmt.Sprintf("%s %s in %s against a baseline of %s (%.1f×)", signalNames[top], show(top, x[top]),
		d.cfg.Window, show(top, st.base[top].mean), ratio)
	return f, true
}

// signalDetails are the numbers behind a signal's verdict.
func signalDetails(st *keyState, x, z [nSignals]float64, sig int) map[string]any {
	n := signalNames[sig]
	return map[string]any{n: roundTo(x[sig], sig), n + "_baseline": roundTo(st.base[sig].mean, sig),
		n + "_z": roundTo(z[sig], sigErrorRatio)}
}

// show prints a signal's value; cost is kept in nano-USD and shown in USD.
func show(sig int, v float64) string {
	if sig == sigCost {
		return fmt.Sprintf("$%.4f", v/1e9)
	}
	return fmt.Sprintf("%.0f", v)
}

// roundTo keeps details readable: cost in USD with 6 decimals, ratios and scores with
// 3, counts whole.
func roundTo(v float64, sig int) float64 {
	switch sig {
	case sigCost:
		return float64(int64(v/1e3+0.5)) / 1e6
	case sigErrorRatio:
		return float64(int64(v*1e3+0.5)) / 1e3
	}
	return float64(int64(v + 0.5))
}

// firstSeen reports a network or a model the key had not used before, once the key
// is warm. Models are learned from answered requests only: a name a client makes up
// is not a model it uses.
func (d *Detector) firstSeen(st *keyState, o Observation) []Finding {
	var out []Finding
	warm := st.active >= d.cfg.Warmup
	if net, ok := networkOf(o.SourceIP); ok && !st.wide && st.networks.put(net, struct{}{}) {
		if st.networks.len() >= d.cfg.MaxNetworks {
			st.wide = true
		} else if warm {
			out = append(out, d.raise(st, Finding{Time: o.Time, Kind: KindNewNetwork, Severity: SeverityMedium,
				WindowStart: d.start(st.window), Summary: "first request from " + net.String(),
				Details: map[string]any{"network": net.String(), "ip": o.SourceIP.String()}})...)
		}
	}
	if o.Model != "" && !o.Error && st.models.put(o.Model, struct{}{}) && warm {
		out = append(out, d.raise(st, Finding{Time: o.Time, Kind: KindNewModel, Severity: SeverityLow,
			WindowStart: d.start(st.window), Summary: "first request for model " + o.Model,
			Details: map[string]any{"model": o.Model}})...)
	}
	return out
}

// networkOf is the address's /24 (IPv4) or /48 (IPv6).
func networkOf(ip netip.Addr) (netip.Prefix, bool) {
	if !ip.IsValid() {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap()
	bits := 48
	if ip.Is4() {
		bits = 24
	}
	p, err := ip.Prefix(bits)
	return p, err == nil
}

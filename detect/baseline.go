package detect

import "math"

// baseline is an exponentially weighted moving mean and variance of one signal, one
// sample per window.
type baseline struct {
	mean, variance float64
	n              int
}

// update adds a window's value with weight alpha (the first value sets the mean).
func (b *baseline) update(x, alpha float64) {
	if b.n == 0 {
		b.mean, b.variance, b.n = x, 0, 1
		return
	}
	d := x - b.mean
	b.mean += alpha * d
	b.variance = (1 - alpha) * (b.variance + alpha*d*d)
	b.n++
}

// z is how many standard deviations x lies above the mean, with the variance taken as
// at least floor: a signal that has been perfectly steady is not infinitely surprising.
func (b *baseline) z(x, floor float64) float64 {
	return (x - b.mean) / math.Sqrt(max(b.variance, floor, 1e-9))
}

// ratio is x as a multiple of the mean (with the mean taken as at least min).
func (b *baseline) ratio(x, min float64) float64 {
	return x / max(b.mean, min)
}

// The signals kept per key.
const (
	sigRequests = iota
	sigTokens
	sigCost
	sigErrorRatio
	sigIPs
	nSignals
)

var signalNames = [nSignals]string{"requests", "tokens", "cost_usd", "error_ratio", "source_ips"}

// floor is the smallest variance assumed for a signal of the key in a window of n
// requests: counts are at least Poisson-noisy (variance = mean), a ratio at least
// binomially noisy, and sums of tokens or cost at least as noisy as a compound Poisson
// sum of what the key's requests usually weigh (the mean sum of squares per window),
// and never below a tenth of their mean in standard deviation.
func (st *keyState) floor(sig int, n float64) float64 {
	mean := st.base[sig].mean
	switch sig {
	case sigRequests, sigIPs:
		return max(mean, 1)
	case sigErrorRatio:
		p := min(max(mean, 0.01), 0.99)
		return p * (1 - p) / max(n, 1)
	case sigTokens:
		return max(0.01*mean*mean, st.sq[0].mean, 1)
	}
	return max(0.01*mean*mean, st.sq[1].mean, 1)
}

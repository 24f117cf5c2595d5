package detect

import "time"

// Config tunes the detectors. Zero fields take the defaults shown.
type Config struct {
	// Window is the length of a window (1m).
	Window time.Duration
	// Alpha is the weight of each new window in the baselines (0.05: a memory of about
	// twenty windows, slow enough to ignore a burst, fast enough to follow a day).
	Alpha float64
	// Warmup is how many windows with requests a key needs before it is scored (30).
	Warmup int
	// Z is the least z-score that is anomalous (6).
	Z float64
	// MinRatio is the least multiple of the baseline that is anomalous (4), and
	// HighRatio the multiple that makes a volume spike high severity (8).
	MinRatio, HighRatio float64
	// Absolute floors under which a window is never anomalous, so that small keys do
	// not alert: requests (30 per window), tokens (30000), cost (50000000 nano-USD,
	// $0.05), errors (10, and MinErrorRatio 0.5 of the requests) and distinct source
	// addresses (8).
	MinRequests, MinTokens, MinCostNano, MinErrors int64
	MinErrorRatio                                  float64
	MinIPs                                         int
	// Cooldown is how long a key is not raised again for the same kind (1h).
	Cooldown time.Duration
	// MaxKeys bounds the keys tracked (10000; the least recently seen is forgotten and
	// warms up again when it comes back); MaxNetworks (64) and MaxModels (64) bound the
	// first-seen sets of each key, and MaxIPsPerWindow (256) the addresses counted in a
	// window.
	MaxKeys, MaxNetworks, MaxModels, MaxIPsPerWindow int
}

func (c *Config) setDefaults() {
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defF := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	defI := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	defN := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur(&c.Window, time.Minute)
	defDur(&c.Cooldown, time.Hour)
	defF(&c.Alpha, 0.05)
	defF(&c.Z, 6)
	defF(&c.MinRatio, 4)
	defF(&c.HighRatio, 8)
	defF(&c.MinErrorRatio, 0.5)
	defI(&c.MinRequests, 30)
	defI(&c.MinTokens, 30000)
	defI(&c.MinCostNano, 50_000_000)
	defI(&c.MinErrors, 10)
	defN(&c.Warmup, 30)
	defN(&c.MinIPs, 8)
	defN(&c.MaxKeys, 10000)
	defN(&c.MaxNetworks, 64)
	defN(&c.MaxModels, 64)
	defN(&c.MaxIPsPerWindow, 256)
}

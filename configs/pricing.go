package configs

import _ "embed" // For the pricing catalog below.

// PricingYAML is the built-in pricing catalog, pricing.yaml, embedded in the binary.
// Package billing parses it; its format is described at the top of the file.
//
//go:embed pricing.yaml
var PricingYAML string

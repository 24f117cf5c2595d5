package billing

import "github.com/tollgate-llm/tollgate/schema"

// Cost prices normalised usage (schema.Usage: PromptTokens include cached and cache-write
// tokens, CompletionTokens include reasoning tokens):
//
//	uncached prompt tokens × Input
//	+ cached (cache-read) tokens × CachedInput
//	+ cache-write tokens × CacheWrite
//	+ completion tokens other than reasoning × Output
//	+ reasoning tokens × Reasoning (equal to Output unless the catalog prices them apart)
//
// all per million tokens, using the long-context rates when the prompt is above the
// band. The sum is exact (128-bit) and rounded once per request, half up, to the
// nano-USD. Inconsistent usage is clamped rather than trusted: cached and cache-write
// tokens never exceed the prompt, reasoning never exceeds the completion, negatives
// count as zero. An unknown price costs zero.
func (p Price) Cost(u schema.Usage) Money {
	if !p.Known {
		return 0
	}
	prompt := max(u.PromptTokens, 0)
	cached := clamp(u.CachedTokens, prompt)
	writes := clamp(u.CacheWriteTokens, prompt-cached)
	completion := max(u.CompletionTokens, 0)
	reasoning := clamp(u.ReasoningTokens, completion)
	r := p.rates(prompt)
	var w wide
	w.addMul(prompt-cached-writes, r.Input)
	w.addMul(cached, r.CachedInput)
	w.addMul(writes, r.CacheWrite)
	w.addMul(completion-reasoning, r.Output)
	w.addMul(reasoning, r.Reasoning)
	return w.perMillion()
}

// clamp bounds v to [0, hi].
func clamp(v, hi int64) int64 {
	return max(0, min(v, hi))
}

// WorstCase is the most a request can cost at p: every prompt token at the dearest prompt
// rate (a cache write can cost more than input), and maxTokens of output (the model's
// output limit when maxTokens is zero, fallbackMax when that is unknown too) at the
// dearer of the output and reasoning rates. The long-context band is used as soon as the
// prompt estimate is within 10% of it, since estimates are estimates.
func (p Price) WorstCase(promptTokens, maxTokens, fallbackMax int64) Money {
	if !p.Known {
		return 0
	}
	out := maxTokens
	if out <= 0 {
		out = p.MaxOutputTokens
	}
	if out <= 0 {
		out = fallbackMax
	}
	r := p.Rates
	if t := p.LongContext; t != nil && promptTokens > t.Above-t.Above/10 {
		r = t.Rates
	}
	var w wide
	w.addMul(promptTokens, max(r.Input, r.CachedInput, r.CacheWrite))
	w.addMul(out, max(r.Output, r.Reasoning))
	return w.perMillion()
}

// WorstCaseOf is the largest WorstCase among prices: a reservation made before routing
// must cover whichever target (or fallback model) ends up serving the request.
func WorstCaseOf(promptTokens, maxTokens, fallbackMax int64, prices ...Price) Money {
	var worst Money
	for _, p := range prices {
		worst = max(worst, p.WorstCase(promptTokens, maxTokens, fallbackMax))
	}
	return worst
}

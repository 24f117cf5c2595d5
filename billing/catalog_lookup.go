package billing

import (
	"regexp"
	"slices"
	"strings"
)

// providerFamilies maps tollgate provider types whose models the catalog lists under
// another provider: Azure OpenAI deployments are priced as OpenAI's models, Vertex and
// Google AI Studio as Gemini's.
var providerFamilies = map[string]string{
	"azure":  "openai",
	"google": "gemini",
	"vertex": "gemini",
}

var (
	// bedrockRegion is a Bedrock cross-region inference prefix.
	bedrockRegion = regexp.MustCompile(`^(us|eu|apac|global|jp|au|ca|us-gov)\.`)
	// bedrockVendor is the vendor part of a Bedrock model id.
	bedrockVendor = regexp.MustCompile(`^(amazon|anthropic|meta|mistral|cohere|deepseek|openai|qwen|google|writer|ai21|xai)\.`)
	// bedrockVersion is the version suffix of a Bedrock model id: "-v1:0", "-v1", ":0".
	bedrockVersion = regexp.MustCompile(`(-v\d+(:\d+)?|:\d+)$`)
	// datedSuffix is a snapshot date: OpenAI's "-2024-08-06", Anthropic's "-20250929".
	datedSuffix = regexp.MustCompile(`-(\d{4}-\d{2}-\d{2}|\d{8})$`)
)

// Lookup finds the catalog entry for model as a provider of type provider calls it.
//
// The rule, tried in this order until a name matches (case-insensitively):
//
//  1. the name as given: exact ids win, so "gpt-4o-2024-05-13" keeps its own price and
//     Groq's "openai/gpt-oss-120b" is found whole;
//  2. without a Vertex "@version" suffix ("claude-sonnet-4-5@20250929");
//  3. without leading path segments, one at a time ("openrouter/anthropic/x" → "anthropic/x" → "x",
//     "models/gemini-2.5-flash" → "gemini-2.5-flash");
//  4. without a Bedrock region prefix, vendor and version ("us.anthropic.claude-sonnet-4-5-20250929-v1:0"
//     → "claude-sonnet-4-5-20250929", "amazon.nova-pro-v1:0" → "nova-pro");
//  5. without a snapshot date ("-2024-08-06", "-20250929"): dated ids find their base;
//  6. without "-latest" ("claude-3-5-haiku-latest").
//
// For each name, an entry of the provider (or its family: azure → openai, vertex and
// google → gemini) is preferred; otherwise the first entry of that name in the file is
// used, so that OpenRouter, Bedrock or Vertex requests for a known model are priced at
// the model vendor's list price. A model that matches nothing is not priced.
func (c *Catalog) Lookup(provider, model string) (Entry, bool) {
	key := provider + "\x00" + model
	if v, ok := c.lookups.Load(key); ok {
		if i := v.(int); i >= 0 {
			return c.entries[i], true
		}
		return Entry{}, false
	}
	i := c.lookup(provider, model)
	if c.cached.Add(1) <= maxCachedLookups {
		c.lookups.Store(key, i)
	}
	if i < 0 {
		return Entry{}, false
	}
	return c.entries[i], true
}

// maxCachedLookups bounds the lookup cache, in case model names come from clients.
const maxCachedLookups = 4096

// lookup applies the rule of Lookup and returns the entry's index, or -1.
func (c *Catalog) lookup(provider, model string) int {
	prov := strings.ToLower(provider)
	if fam, ok := providerFamilies[prov]; ok {
		prov = fam
	}
	for _, name := range candidateNames(model) {
		idxs := c.byName[name]
		if len(idxs) == 0 {
			continue
		}
		for _, i := range idxs {
			if c.entries[i].Provider == prov {
				return i
			}
		}
		return idxs[0]
	}
	return -1
}

// candidateNames returns the names Lookup tries for model, in order, without repeats.
func candidateNames(model string) []string {
	var names []string
	add := func(s string) {
		if s != "" && !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	m := strings.ToLower(strings.TrimSpace(model))
	add(m)
	if at := strings.IndexByte(m, '@'); at > 0 {
		m = m[:at]
		add(m)
	}
	for {
		_, rest, ok := strings.Cut(m, "/")
		if !ok {
			break
		}
		m = rest
		add(m)
	}
	m = bedrockRegion.ReplaceAllString(m, "")
	m = bedrockVendor.ReplaceAllString(m, "")
	m = bedrockVersion.ReplaceAllString(m, "")
	add(m)
	m = datedSuffix.ReplaceAllString(m, "")
	add(m)
	add(strings.TrimSuffix(m, "-latest"))
	return names
}

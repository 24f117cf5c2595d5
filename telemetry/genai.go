package telemetry

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// genAIProviders maps tollgate's provider types to the GenAI semantic conventions'
// gen_ai.provider.name values; a type without a well-known value is used as it is.
var genAIProviders = map[string]attribute.KeyValue{
	"openai":     semconv.GenAIProviderNameOpenAI,
	"anthropic":  semconv.GenAIProviderNameAnthropic,
	"gemini":     semconv.GenAIProviderNameGCPGemini,
	"vertex":     semconv.GenAIProviderNameGCPVertexAI,
	"azure":      semconv.GenAIProviderNameAzureAIOpenAI,
	"bedrock":    semconv.GenAIProviderNameAWSBedrock,
	"cohere":     semconv.GenAIProviderNameCohere,
	"mistral":    semconv.GenAIProviderNameMistralAI,
	"groq":       semconv.GenAIProviderNameGroq,
	"deepseek":   semconv.GenAIProviderNameDeepseek,
	"xai":        semconv.GenAIProviderNameXAI,
	"perplexity": semconv.GenAIProviderNamePerplexity,
}

// genAIProvider returns the gen_ai.provider.name attribute of a provider type.
func genAIProvider(typ string) attribute.KeyValue {
	if kv, ok := genAIProviders[typ]; ok {
		return kv
	}
	return semconv.GenAIProviderNameKey.String(Redact(typ))
}

// operationOf returns the gen_ai.operation.name of an inference route, or "" for any
// other route.
func operationOf(route string) string {
	switch {
	case strings.HasSuffix(route, "/chat/completions"):
		return "chat"
	case strings.HasSuffix(route, "/completions"):
		return "text_completion"
	case strings.HasSuffix(route, "/embeddings"):
		return "embeddings"
	}
	return ""
}

// str is a string attribute whose value is redacted: every value that a client or an
// upstream can influence goes through it.
func str(k attribute.Key, v string) attribute.KeyValue {
	return k.String(Redact(v))
}

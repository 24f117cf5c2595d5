package bedrock

import (
	"testing"

	"github.com/tollgate-llm/tollgate/providers"
	"github.com/tollgate-llm/tollgate/providers/providertest"
	"github.com/tollgate-llm/tollgate/schema"
)

// harness runs the suite against fakellm's Bedrock dialect with key (IAM credentials,
// verified by the fake's own SigV4 implementation, or an API key) and model.
func harness(key, model string, skip map[string]string) providertest.Harness {
	return providertest.Harness{
		Name: "bedrock",
		New: func(t testing.TB, origin string, headers map[string]string) providers.Provider {
			return newProvider(t, origin, headers)
		},
		Key:   schema.NewSecret(key),
		Model: model,
		Skip:  skip,
	}
}

// embeddingsElsewhere is why the chat-model runs skip embeddings.
const embeddingsElsewhere = "Bedrock embeddings need an Amazon Titan embeddings model while Harness.Model is a chat model; " +
	"TestConformanceEmbeddings runs this case with cohere.embed-english-v3"

// TestConformance runs the suite with SigV4-signed requests.
func TestConformance(t *testing.T) {
	providertest.Run(t, harness(testIAMKey, testModel, map[string]string{providertest.CaseEmbeddings: embeddingsElsewhere}))
}

// TestConformanceBearer runs the suite with a Bedrock API key sent as a bearer token.
func TestConformanceBearer(t *testing.T) {
	providertest.Run(t, harness(testAPIKey, testModel, map[string]string{providertest.CaseEmbeddings: embeddingsElsewhere}))
}

// TestConformanceEmbeddings runs the embeddings case with Cohere Embed, which takes a
// batch in one call as the case expects (Titan takes one text per call: TestEmbeddings
// covers it); the chat cases run in TestConformance.
func TestConformanceEmbeddings(t *testing.T) {
	skip := map[string]string{}
	for _, c := range []string{providertest.CaseText, providertest.CaseSystem, providertest.CaseTools,
		providertest.CaseToolsStream, providertest.CaseImage, providertest.CaseJSONMode, providertest.CaseStop,
		providertest.CaseUsage, providertest.CaseUsageStreamEqual, providertest.CaseErrors, providertest.CaseCancel,
		providertest.CaseGoOpenAIStream} {
		skip[c] = "a chat case: TestConformance runs it with a chat model"
	}
	providertest.Run(t, harness(testIAMKey, "cohere.embed-english-v3", skip))
}

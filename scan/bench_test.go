package scan

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/keys"
)

// BenchmarkLines measures scanning typical source text: mostly code-like lines, some
// holding words every rule filters on (tg, sk-, AKIA, gh, ...), one key per thousand
// lines.
func BenchmarkLines(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 12))
	var sb strings.Builder
	for i := range 20_000 {
		switch {
		case i%1000 == 0:
			k, _, _ := keys.Generate(keys.KindClient)
			sb.WriteString(`	apiKey := "` + k + `"`)
		case i%7 == 0:
			sb.WriteString("	// the tgk_ prefix, sk-proj- keys and AKIA ids are scanned for; ghp_ too " + randString(rng, 30))
		default:
			sb.WriteString("	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil { return " + randString(rng, 20) + " }")
		}
		sb.WriteByte('\n')
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		s := newFileScan("f", "")
		lines(data, s.line)
		if len(s.done()) != 20 {
			b.Fatal("keys missed")
		}
	}
}

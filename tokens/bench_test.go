package tokens

import (
	"path"
	"runtime"
	"strings"
	"testing"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

// benchTexts are a one-line prompt, as most chat turns are, and a mixed 4 KB document
// of prose, code, JSON and a little CJK.
var benchTexts = map[string]string{
	"line": "Can you summarize the main causes of the French Revolution in three bullet points?",
	"doc": strings.Repeat("It was the best of times, it was the worst of times; we'd've known. ", 12) +
		strings.Repeat("func f(x int) error {\n\tif x > 0 {\n\t\treturn fmt.Errorf(\"bad %d\", x)\n\t}\n}\n", 12) +
		strings.Repeat(`{"id":"call_9","type":"function","arguments":"{\"city\":\"Paris\",\"days\":3}"}`, 12) +
		strings.Repeat("東京で会いましょう。Größenwahn — 12345 ", 12),
}

// BenchmarkCount compares counting with tiktoken-go's EncodeOrdinary to counting here
// without the piece cache ("cold") and with every piece cached ("warm").
func BenchmarkCount(b *testing.B) {
	for _, name := range []string{CL100K, O200K} {
		tk, e := reference(b, name), Get(name)
		if err := e.Load(); err != nil {
			b.Fatal(err)
		}
		for _, tn := range []string{"line", "doc"} {
			text := benchTexts[tn]
			b.Run(name+"/"+tn+"/tiktoken-go", func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					tk.EncodeOrdinary(text)
				}
			})
			b.Run(name+"/"+tn+"/cold", func(b *testing.B) {
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					e.count(text, nil)
				}
			})
			b.Run(name+"/"+tn+"/warm", func(b *testing.B) {
				e.count(text, &e.cache)
				b.SetBytes(int64(len(text)))
				for b.Loop() {
					e.count(text, &e.cache)
				}
			})
		}
	}
}

// BenchmarkBuild measures building an encoding and the heap it keeps: here, the
// compact table; in tiktoken-go, the loader's rank map and the CoreBPE built on it, as
// tiktoken.GetEncoding builds them. Run it with -benchtime=3x; it reports heap-MB.
func BenchmarkBuild(b *testing.B) {
	for _, name := range []string{CL100K, O200K} {
		b.Run(name+"/tokens", func(b *testing.B) {
			buildClasses()
			measureHeap(b, func() any {
				t, err := loadTable(name + ".tiktoken")
				if err != nil {
					b.Fatal(err)
				}
				return t
			})
		})
		b.Run(name+"/tiktoken-go", func(b *testing.B) {
			measureHeap(b, func() any {
				ranks, err := tiktokenloader.NewOfflineLoader().LoadTiktokenBpe(path.Join("x", name+".tiktoken"))
				if err != nil {
					b.Fatal(err)
				}
				bpe, err := tiktoken.NewCoreBPE(ranks, map[string]int{"<|endoftext|>": len(ranks)},
					patterns[name].String())
				if err != nil {
					b.Fatal(err)
				}
				return bpe
			})
		})
	}
}

// measureHeap runs build b.N times and reports the live heap that each result holds.
func measureHeap(b *testing.B, build func() any) {
	var total int64
	var ms runtime.MemStats
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		b.StartTimer()
		v := build()
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		total += int64(ms.HeapAlloc) - int64(before)
		runtime.KeepAlive(v)
		b.StartTimer()
	}
	b.ReportMetric(float64(total)/float64(b.N)/(1<<20), "heap-MB")
}

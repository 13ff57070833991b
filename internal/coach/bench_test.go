package coach

import (
	"runtime"
	"testing"
	"time"

	"github.com/jonreiter/govader"
)

// BenchmarkAssess scores the held-out support corpus; msgs/s is per core.
func BenchmarkAssess(b *testing.B) {
	texts, _ := readLabelled(b, "testdata/messages.tsv")
	c := Default()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Assess(texts[i%len(texts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkVADER scores the same corpus with govader, for comparison.
func BenchmarkVADER(b *testing.B) {
	texts, _ := readLabelled(b, "testdata/messages.tsv")
	sia := govader.NewSentimentIntensityAnalyzer()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sia.PolarityScores(texts[i%len(texts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkAssessVsVADER times both scorers over the whole corpus in the same
// run and reports how many times more messages per second Assess scores. Each
// scorer is timed in its own phase of 20 passes over the corpus, after a GC,
// so that neither pays for the other's garbage or cache misses; VADER's own
// allocation and GC costs fall in its phase. The phases alternate b.N times, so
// machine noise hits both alike. Run it with -cpu 1 for the per-core figure.
func BenchmarkAssessVsVADER(b *testing.B) {
	texts, _ := readLabelled(b, "testdata/messages.tsv")
	c := Default()
	sia := govader.NewSentimentIntensityAnalyzer()
	const passes = 20
	var ours, theirs time.Duration
	for i := 0; i < b.N; i++ {
		runtime.GC()
		t0 := time.Now()
		for range passes {
			for _, s := range texts {
				c.Assess(s)
			}
		}
		ours += time.Since(t0)
		runtime.GC()
		t0 = time.Now()
		for range passes {
			for _, s := range texts {
				sia.PolarityScores(s)
			}
		}
		theirs += time.Since(t0)
	}
	n := float64(b.N * passes * len(texts))
	b.ReportMetric(float64(theirs)/float64(ours), "x-vader")
	b.ReportMetric(n/ours.Seconds(), "assess-msgs/s")
	b.ReportMetric(n/theirs.Seconds(), "vader-msgs/s")
}

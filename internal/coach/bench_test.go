package coach

import (
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

// BenchmarkAssessVsVADER times both scorers over the whole corpus in the same run
// and reports how many times faster Assess is.
func BenchmarkAssessVsVADER(b *testing.B) {
	texts, _ := readLabelled(b, "testdata/messages.tsv")
	c := Default()
	sia := govader.NewSentimentIntensityAnalyzer()
	var ours, theirs time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		for _, s := range texts {
			c.Assess(s)
		}
		t1 := time.Now()
		for _, s := range texts {
			sia.PolarityScores(s)
		}
		ours += t1.Sub(t0)
		theirs += time.Since(t1)
	}
	b.ReportMetric(float64(theirs)/float64(ours), "x-vader")
	b.ReportMetric(float64(b.N*len(texts))/ours.Seconds(), "assess-msgs/s")
	b.ReportMetric(float64(b.N*len(texts))/theirs.Seconds(), "vader-msgs/s")
}

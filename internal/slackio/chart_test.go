package slackio

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	"empathybot/internal/support"
)

func sampleReport(holdout float64) support.Report {
	start := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	r := support.Report{From: start, To: start.AddDate(0, 0, 7), Channels: []string{"CSUP"}, FirstReplies: 12, MedianFirstReply: 14 * time.Minute, TeamSize: 5}
	for i, n := range []int{3, 7, 2, 0, 9, 4, 1} {
		r.Days = append(r.Days, support.DayCount{Day: start.AddDate(0, 0, i), Frustrated: n})
	}
	r.Lift = support.LiftOf(support.ChannelStats{Counts: map[string]int{
		"oc:nudge:deesc": 12, "oc:nudge:same": 6, "oc:nudge:esc": 2, "oc:holdout:deesc": 1, "oc:holdout:same": 2,
	}}, holdout)
	return r
}

func has(img image.Image, c color.RGBA) bool {
	b := img.Bounds()
	for x := b.Min.X; x < b.Max.X; x += 2 {
		for y := b.Min.Y; y < b.Max.Y; y += 2 {
			if r, g, bl, _ := img.At(x, y).RGBA(); uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				return true
			}
		}
	}
	return false
}

// The chart is a PNG with the day bars, and the two arms' bars when there
// is a holdout (one without); its words name no one.
func TestReportChart(t *testing.T) {
	for _, holdout := range []float64{0.1, 0} {
		data, err := reportChart(sampleReport(holdout))
		if err != nil {
			t.Fatal(err)
		}
		if out := os.Getenv("CHART_OUT"); out != "" && holdout > 0 {
			os.WriteFile(out, data, 0o644)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if !has(img, chartBar) || !has(img, chartNudge) || has(img, chartHeld) != (holdout > 0) {
			t.Errorf("holdout %.1f: day bars %v, nudged %v, held out %v", holdout, has(img, chartBar), has(img, chartNudge), has(img, chartHeld))
		}
	}
	small := sampleReport(0.1)
	small.TeamSize = 4
	if text := reportText(small); strings.Contains(text, "first agent reply") {
		t.Errorf("a team of 4 sees the first-reply time:\n%s", text)
	}
	text := reportText(sampleReport(0.1))
	for _, want := range []string{"Frustrated moments: *26*", "14 min", "de-escalated *12 of 20*", "Team figures only"} {
		if !strings.Contains(text, want) {
			t.Errorf("report text lacks %q:\n%s", want, text)
		}
	}
}

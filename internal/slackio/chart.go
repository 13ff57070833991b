package slackio

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"

	"empathybot/internal/coach"
	"empathybot/internal/support"
)

// The leads' chart, drawn with the standard library: frustrated moments
// per day, and the de-escalation rate with and without a nudge. The
// labels are in a 3×5 pixel font of our own (the standard library has no
// font), drawn three times as large.

var (
	chartBG    = color.RGBA{0xff, 0xff, 0xff, 0xff}
	chartInk   = color.RGBA{0x1d, 0x1c, 0x1d, 0xff}
	chartMuted = color.RGBA{0x86, 0x86, 0x86, 0xff}
	chartBar   = color.RGBA{0xe0, 0x1e, 0x5a, 0xff} // frustrated
	chartNudge = color.RGBA{0x2e, 0xb6, 0x7d, 0xff}
	chartHeld  = color.RGBA{0x36, 0xc5, 0xf0, 0xff}
)

// glyphs is a 3×5 font (M, N and W wider): each glyph is five rows of pixels.
var glyphs = map[rune][5]string{
	'0': {"###", "#.#", "#.#", "#.#", "###"}, '1': {".#.", "##.", ".#.", ".#.", "###"},
	'2': {"###", "..#", "###", "#..", "###"}, '3': {"###", "..#", ".##", "..#", "###"},
	'4': {"#.#", "#.#", "###", "..#", "..#"}, '5': {"###", "#..", "###", "..#", "###"},
	'6': {"###", "#..", "###", "#.#", "###"}, '7': {"###", "..#", ".#.", ".#.", ".#."},
	'8': {"###", "#.#", "###", "#.#", "###"}, '9': {"###", "#.#", "###", "..#", "###"},
	'A': {".#.", "#.#", "###", "#.#", "#.#"}, 'B': {"##.", "#.#", "##.", "#.#", "##."},
	'C': {".##", "#..", "#..", "#..", ".##"}, 'D': {"##.", "#.#", "#.#", "#.#", "##."},
	'E': {"###", "#..", "##.", "#..", "###"}, 'F': {"###", "#..", "##.", "#..", "#.."},
	'G': {".##", "#..", "#.#", "#.#", ".##"}, 'H': {"#.#", "#.#", "###", "#.#", "#.#"},
	'I': {"###", ".#.", ".#.", ".#.", "###"}, 'J': {"..#", "..#", "..#", "#.#", ".#."},
	'K': {"#.#", "#.#", "##.", "#.#", "#.#"}, 'L': {"#..", "#..", "#..", "#..", "###"},
	'M': {"#...#", "##.##", "#.#.#", "#...#", "#...#"}, 'N': {"#..#", "##.#", "#.##", "#..#", "#..#"},
	'O': {".#.", "#.#", "#.#", "#.#", ".#."}, 'P': {"##.", "#.#", "##.", "#..", "#.."},
	'Q': {".#.", "#.#", "#.#", "##.", ".##"}, 'R': {"##.", "#.#", "##.", "#.#", "#.#"},
	'S': {".##", "#..", ".#.", "..#", "##."}, 'T': {"###", ".#.", ".#.", ".#.", ".#."},
	'U': {"#.#", "#.#", "#.#", "#.#", "###"}, 'V': {"#.#", "#.#", "#.#", "#.#", ".#."},
	'W': {"#...#", "#...#", "#.#.#", "##.##", "#...#"}, 'X': {"#.#", "#.#", ".#.", "#.#", "#.#"},
	'Y': {"#.#", "#.#", ".#.", ".#.", ".#."}, 'Z': {"###", "..#", ".#.", "#..", "###"},
	'%': {"#.#", "..#", ".#.", "#..", "#.#"}, '-': {"...", "...", "###", "...", "..."},
	'/': {"..#", "..#", ".#.", "#..", "#.."}, '.': {"...", "...", "...", "...", ".#."},
	'(': {".#.", "#..", "#..", "#..", ".#."}, ')': {".#.", "..#", "..#", "..#", ".#."},
	' ': {"...", "...", "...", "...", "..."}, ':': {"...", ".#.", "...", ".#.", "..."},
}

const fontScale = 3

// label draws s (upper-cased; unknown runes as spaces) with its top left at x, y.
func label(img *image.RGBA, x, y int, s string, c color.Color) {
	for _, r := range strings.ToUpper(s) {
		g, ok := glyphs[r]
		if !ok {
			g = glyphs[' ']
		}
		for row, line := range g {
			for col, px := range line {
				if px == '#' {
					fill(img, x+col*fontScale, y+row*fontScale, fontScale, fontScale, c)
				}
			}
		}
		x += (len(g[0]) + 1) * fontScale
	}
}

func labelWidth(s string) int {
	w := 0
	for _, r := range strings.ToUpper(s) {
		g, ok := glyphs[r]
		if !ok {
			g = glyphs[' ']
		}
		w += (len(g[0]) + 1) * fontScale
	}
	return w
}

func fill(img *image.RGBA, x, y, w, h int, c color.Color) {
	for i := x; i < x+w; i++ {
		for j := y; j < y+h; j++ {
			img.Set(i, j, c)
		}
	}
}

// reportChart draws the report as a PNG.
func reportChart(r support.Report) ([]byte, error) {
	const W, H = 900, 420
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	fill(img, 0, 0, W, H, chartBG)

	// Left: frustrated moments per day.
	const left, base, top, plotW = 40, 340, 80, 480
	label(img, left, 24, "FRUSTRATED MOMENTS PER DAY", chartInk)
	peak := 1
	for _, d := range r.Days {
		peak = max(peak, d.Frustrated)
	}
	n := max(len(r.Days), 1)
	slot := plotW / n
	bw := max(slot*2/3, 2)
	fill(img, left, base, plotW, 2, chartMuted)
	for i, d := range r.Days {
		h := (base - top) * d.Frustrated / peak
		x := left + i*slot + (slot-bw)/2
		fill(img, x, base-h, bw, h, chartBar)
		if n <= 14 {
			v := fmt.Sprint(d.Frustrated)
			label(img, x+(bw-labelWidth(v))/2, base-h-20, v, chartInk)
			day := strings.ToUpper(d.Day.Format("Mon"))
			label(img, x+(bw-labelWidth(day))/2, base+12, day, chartMuted)
		}
	}

	// Right: de-escalation rate with and without a nudge, of answered moments.
	const rx, rw = 580, 280
	label(img, rx, 24, "DE-ESCALATED", chartInk)
	type arm struct {
		name string
		a    support.ArmStats
		c    color.Color
	}
	arms := []arm{{"NUDGED", r.Lift.Nudged, chartNudge}}
	if r.Lift.Holdout > 0 {
		arms = append(arms, arm{"HELD OUT", r.Lift.Held, chartHeld})
	}
	fill(img, rx, base, rw, 2, chartMuted)
	for i, arm := range arms {
		x := rx + 20 + i*130
		h := int(float64(base-top) * arm.a.Rate())
		fill(img, x, base-h, 90, h, arm.c)
		v := "-"
		if arm.a.Answered() > 0 {
			v = fmt.Sprintf("%.0f%%", 100*arm.a.Rate())
		}
		label(img, x+(90-labelWidth(v))/2, base-h-20, v, chartInk)
		label(img, x+(90-labelWidth(arm.name))/2, base+12, arm.name, chartMuted)
		cnt := fmt.Sprintf("%d/%d", arm.a.Deescalated, arm.a.Answered())
		label(img, x+(90-labelWidth(cnt))/2, base+36, cnt, chartMuted)
	}
	if r.Lift.Holdout <= 0 {
		label(img, rx, base+60, "NO HOLDOUT", chartMuted)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// reportText is the words beside the chart.
func reportText(r support.Report) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, ":bar_chart: *The team's week with empathybot* — %s to %s\n", r.From.UTC().Format("Mon 2 Jan"), r.To.Add(-1).UTC().Format("Mon 2 Jan"))
	if len(r.Channels) == 0 {
		sb.WriteString("Set EMPATHY_CHANNELS to have the report cover your support channels.\n")
		return sb.String()
	}
	moments := 0
	for _, d := range r.Days {
		moments += d.Frustrated
	}
	fmt.Fprintf(&sb, "• Frustrated moments: *%d* in %d channel(s)\n", moments, len(r.Channels))
	if r.FirstReplies > 0 && r.TeamSize >= support.MinTeamForFigures {
		fmt.Fprintf(&sb, "• Median first agent reply to a frustrated customer: *%s* (%d threads)\n", coach.HumanDuration(r.MedianFirstReply), r.FirstReplies)
	}
	sb.WriteString(liftText(r.Lift, "this period"))
	sb.WriteString("\n_Team figures only: nothing here is about one agent._")
	return sb.String()
}

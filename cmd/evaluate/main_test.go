package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"empathybot/internal/coach"
)

const partsFile = `# label<TAB>text
# Part 1.
0	Thanks, that fixed it!
1	This is the third time I'm asking and it's still broken. Unacceptable.
# Part 2.
0	This is the third time I'm asking and nobody has answered. Unacceptable.
1	Thanks, that fixed it!
# Part 3.
0	How do I add a teammate?
`

func evaluate(t *testing.T, args ...string) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "parts.tsv")
	if err := os.WriteFile(path, []byte(partsFile), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err := run(append(append([]string{"-format", "support"}, args...), path), &out)
	return out.String(), err
}

// -parts keeps the messages under the listed "# Part N." headers.
func TestPartsSelectsMessages(t *testing.T) {
	for _, tt := range []struct{ parts, want string }{
		{"", "5 messages, 2 frustrated"},
		{"1", "2 messages, 1 frustrated"},
		{"2-3", "3 messages, 1 frustrated"},
		{"1,3", "3 messages, 1 frustrated"},
	} {
		out, err := evaluate(t, "-parts", tt.parts)
		if err != nil || !strings.Contains(out, tt.want) {
			t.Errorf("-parts %q: %v\n%s\nwant %q", tt.parts, err, out, tt.want)
		}
	}
	for _, bad := range []string{"x", "3-1", "1-"} {
		if _, err := evaluate(t, "-parts", bad); err == nil || !strings.Contains(err.Error(), "-parts") {
			t.Errorf("-parts %q: err = %v, want one naming -parts", bad, err)
		}
	}
	if _, err := evaluate(t, "-parts", "9"); err == nil || !strings.Contains(err.Error(), "no messages") {
		t.Errorf("-parts 9 (no such part): err = %v, want no messages", err)
	}
}

// -errors lists what the coach gets wrong at its threshold, the most
// confident first, with the evidence it saw; part 1 it gets right.
func TestErrorsListsTheMistakes(t *testing.T) {
	out, err := evaluate(t, "-parts", "2", "-errors")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(out, fmt.Sprintf("2 errors at the threshold %.2f:", coach.DefaultThreshold))
	if i < 0 {
		t.Fatalf("want a header naming 2 errors, got:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(out[i:]), "\n")
	if len(lines) != 3 {
		t.Fatalf("want the header and 2 errors, got:\n%s", out[i:])
	}
	var alarm, missed string
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(l, "false alarm"):
			alarm = l
		case strings.HasPrefix(l, "missed"):
			missed = l
		}
	}
	if !strings.Contains(alarm, `waiting "nobody has answered"`) {
		t.Errorf("false alarm: %q, want the labelled-calm complaint with its evidence", alarm)
	}
	if !strings.Contains(missed, "Thanks, that fixed it!") {
		t.Errorf("missed: %q, want the labelled-frustrated thanks", missed)
	}
	// The most confident error first: the one whose score is furthest from the threshold.
	dist := func(l string) float64 {
		var sc float64
		fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(l, "false alarm"), "missed")), "%f", &sc)
		return math.Abs(sc - coach.DefaultThreshold)
	}
	if dist(lines[1]) < dist(lines[2]) {
		t.Errorf("errors not most confident first:\n%s\n%s", lines[1], lines[2])
	}
	out, err = evaluate(t, "-parts", "1", "-errors")
	if err != nil || !strings.Contains(out, "0 errors at the threshold") {
		t.Errorf("part 1: %v\n%s\nwant 0 errors", err, out)
	}
}

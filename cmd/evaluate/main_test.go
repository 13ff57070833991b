package main

import (
	"fmt"
	"io"
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

// -outcomes replays conversations through the bot's outcome code: an
// angry customer, a reply that acknowledges the feeling, a calm answer is
// de-escalated; one whose reply does not and who stays angry is not; one
// nobody answers is counted apart.
func TestOutcomesReplaysConversations(t *testing.T) {
	lines := []string{
		`{"id":"1","conversation":"1","author":"customer","created_at":"Tue Oct 31 10:00:00 +0000 2017","text":"@acme This is the third time I'm asking. You said it would be fixed by Friday and it's still broken. Ridiculous.","frustrated":1}`,
		`{"id":"2","conversation":"1","author":"AcmeHelp","created_at":"Tue Oct 31 10:05:00 +0000 2017","text":"@1 I'm so sorry you've had to chase this, that's really frustrating. I've fixed it and I'll check with you tomorrow.","in_reply_to":"1"}`,
		`{"id":"3","conversation":"1","author":"customer","created_at":"Tue Oct 31 10:30:00 +0000 2017","text":"@AcmeHelp thanks, that works now","frustrated":0}`,
		`{"id":"4","conversation":"4","author":"customer","created_at":"Tue Oct 31 11:00:00 +0000 2017","text":"@acme Still broken after 3 days. Worst customer service ever, I'm done with you.","frustrated":1}`,
		`{"id":"5","conversation":"4","author":"AcmeHelp","created_at":"Tue Oct 31 11:05:00 +0000 2017","text":"@4 Please read our FAQ.","in_reply_to":"4"}`,
		`{"id":"6","conversation":"4","author":"customer","created_at":"Tue Oct 31 11:30:00 +0000 2017","text":"@AcmeHelp Are you kidding me? This is ridiculous, nobody has helped at all!!","frustrated":1}`,
		`{"id":"7","conversation":"7","author":"customer","created_at":"Tue Oct 31 12:00:00 +0000 2017","text":"@acme I've been waiting 2 weeks for a refund. Unacceptable.","frustrated":1}`,
	}
	path := filepath.Join(t.TempDir(), "twcs.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run([]string{"-outcomes", path}, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"With the coach's verdicts (threshold 0.65): 3 moments",
		"reply acknowledged                  1        1        0        0     100%",
		"reply did not acknowledge           1        0        0        1       0%",
		"no reply within 24 h                1",
		"With the annotators' labels",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if err := run([]string{"-outcomes"}, io.Discard); err == nil {
		t.Error("-outcomes without a file: no error")
	}
}

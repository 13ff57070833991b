package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func runCmd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, Env{}, strings.NewReader(stdin), &out, &errb)
	return out.String(), err
}

func TestAnalyzeStreamsJSONLines(t *testing.T) {
	in := strings.Join([]string{
		`{"id": 1, "text": "thanks, that fixed it", "meta": {"a": [1, 2]}}`,
		`not json`,
		`{"text": 42}`,
		``,
		`{"id": "x", "text": "STILL not working after 2 days!!! I want to speak to a manager"}`,
		`[1,2,3]`,
		`{"text": "has our field", "score": "theirs"}`,
	}, "\n")
	out, err := runCmd(t, in, "analyze")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 7 {
		t.Fatalf("got %d output lines, want 7 (one per input line):\n%s", len(lines), out)
	}
	var objs []map[string]any
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("output line %d is not JSON: %q", i+1, l)
		}
		objs = append(objs, m)
	}
	if objs[0]["id"] != 1.0 || objs[0]["frustrated"] != false || objs[0]["meta"] == nil {
		t.Errorf("line 1: %v", objs[0])
	}
	for _, i := range []int{1, 2, 3, 5} {
		if _, ok := objs[i]["error"].(string); !ok {
			t.Errorf("line %d: want an error object, got %v", i+1, objs[i])
		}
	}
	if objs[4]["id"] != "x" || objs[4]["frustrated"] != true {
		t.Errorf("line 5: %v", objs[4])
	}
	cues, _ := objs[4]["cues"].([]any)
	var kinds []string
	for _, c := range cues {
		m := c.(map[string]any)
		kinds = append(kinds, m["kind"].(string))
		if !strings.Contains(`STILL not working after 2 days!!! I want to speak to a manager`, m["evidence"].(string)) {
			t.Errorf("evidence %q is not from the text", m["evidence"])
		}
	}
	if !strings.Contains(strings.Join(kinds, ","), "escalation") {
		t.Errorf("line 5 cues %v lack escalation", kinds)
	}
	if _, ok := objs[6]["score"].(float64); !ok {
		t.Errorf("line 7: our score should replace the input's: %v", objs[6])
	}
}

func TestAnalyzeSurvivesAHugeLine(t *testing.T) {
	huge := `{"text": "` + strings.Repeat("a", maxLine+10) + `"}`
	in := huge + "\n" + `{"text": "this is ridiculous"}` + "\n"
	out, err := runCmd(t, in, "analyze")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 2 || !strings.Contains(lines[0], `"error"`) || !strings.Contains(lines[1], `"frustrated":true`) {
		t.Fatalf("got %v", lines)
	}
}

func TestAnalyzeExplainsOneMessage(t *testing.T) {
	out, err := runCmd(t, "", "analyze", "I've been waiting two days and nobody has replied. This is unacceptable.")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FRUSTRATED", "waiting", `"two days"`, "Technique:", "Try opening with:"} {
		if !strings.Contains(out, want) {
			t.Errorf("explanation lacks %q:\n%s", want, out)
		}
	}
	// A calm problem report is explained as calm, its failure shown as a
	// cue, with no technique; a language the coach does not read is
	// unscored, and said so.
	out, _ = runCmd(t, "", "analyze", "Hello, my export job fails with error 413, can you take a look?")
	if !strings.Contains(out, "calm") || !strings.Contains(out, `failure: "fails"`) || strings.Contains(out, "Technique:") {
		t.Errorf("problem report explained as:\n%s", out)
	}
	out, _ = runCmd(t, "", "analyze", "Hola, la exportación no funciona desde ayer y nadie nos responde.")
	if !strings.Contains(out, "Language: es") || !strings.Contains(out, "not scored") || strings.Contains(out, "Score") {
		t.Errorf("Spanish message explained as:\n%s", out)
	}
	out, _ = runCmd(t, `{"text":"Das funktioniert schon wieder nicht, wir warten seit Tagen auf eine Antwort."}`+"\n"+`{"text":"thanks"}`+"\n", "analyze")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 ||
		!strings.Contains(lines[0], `"language":"de","unscored":true`) || !strings.Contains(lines[1], `"language":"en"`) || strings.Contains(lines[1], "unscored") {
		t.Errorf("JSON Lines languages:\n%s", out)
	}
	out, _ = runCmd(t, "", "analyze", "How do I export to CSV?")
	if !strings.Contains(out, "calm") || strings.Contains(out, "Technique:") {
		t.Errorf("calm message explained as:\n%s", out)
	}
	// A weak cue is shown as context, not as what the customer shows: a
	// tool's name in capitals is no shouting, and the 2 hours a job ran
	// are no wait for an answer, so the opening does not apologise for one.
	out, _ = runCmd(t, "", "analyze", "IIRC the AMD build uses CIDER")
	if !strings.Contains(out, `"CIDER" — weak sign`) {
		t.Errorf("a capitalised name explained as:\n%s", out)
	}
	out, _ = runCmd(t, "", "analyze", "the job ran 2 hours and then failed, so annoying")
	if !strings.Contains(out, `"2 hours" — weak sign`) || strings.Contains(out, "waiting 2 hours") || !strings.Contains(out, "Try opening with:") {
		t.Errorf("a run time explained as:\n%s", out)
	}
	out, _ = runCmd(t, `{"text":"IIRC the AMD build uses CIDER"}`+"\n", "analyze")
	if !strings.Contains(out, `{"kind":"shouting","evidence":"CIDER","weak":true}`) {
		t.Errorf("JSON of a weak cue: %s", out)
	}
}

func TestSubcommands(t *testing.T) {
	if out, err := runCmd(t, "", "version"); err != nil || !strings.HasPrefix(out, "empathybot ") {
		t.Errorf("version: %q, %v", out, err)
	}
	if out, err := runCmd(t, "", "help"); err != nil || !strings.Contains(out, "bot analyze") {
		t.Errorf("help: %q, %v", out, err)
	}
	_, err := runCmd(t, "", "frobnicate")
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("unknown subcommand: err = %v, want a usageError naming it", err)
	}
}

// The README's first command: the scripted demo shows a nudge, a review, a
// draft check, a check-in after ✅ and a response reminder, and exits cleanly.
func TestDemoPlaysTheWholeStory(t *testing.T) {
	t.Setenv("REDIS_URL", "") // the demo always uses its embedded Redis
	out, err := runCmd(t, "", "demo")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	for _, want := range []string{
		"This customer sounds frustrated", "Opening line", "[:eyes: Claim]", // the nudge, with buttons
		"A thought on your reply",                                // the review of a scripted apology
		"Looks good",                                             // the /empathy check of a good draft
		"is happy with the outcome", "waiting 2 s with no reply", // check-in and reminder, by DM
	} {
		if !strings.Contains(out, want) {
			t.Errorf("demo transcript lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "✉️  DM to Dana"); n != 2 {
		t.Errorf("%d DMs in the transcript, want the check-in and the reminder", n)
	}
}

// demo -outcomes: six frustrated threads, three nudged and three held out
// (no nudge in those), and /empathy stats comparing them.
func TestDemoOutcomes(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	out, err := runCmd(t, "", "demo", "-outcomes")
	if err != nil {
		t.Fatalf("demo -outcomes: %v\n%s", err, out)
	}
	if n := strings.Count(out, "This customer sounds frustrated"); n != 3 {
		t.Errorf("%d nudges, want 3 (one per nudged thread):\n%s", n, out)
	}
	for _, want := range []string{"With a nudge: de-escalated *2 of 3*", "Without (the 50% holdout): de-escalated *2 of 3*", "needed to see a 10-point difference"} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q:\n%s", want, out)
		}
	}
}

// --interactive: several threads, two customers, a reaction, button
// clicks (a nudge's Claim, a triage card's Claim), a command and the App
// Home, typed as lines; the reminder and the check-in appear when they fall
// due while nobody types.
func TestDemoInteractive(t *testing.T) {
	t.Parallel()
	in, typing := io.Pipe()
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"demo", "--interactive", "-remind", "2s"}, Env{}, in, out, io.Discard)
	}()
	for _, line := range []string{
		"c: Hi, the export to CSV fails with error 413.",
		"a: Thanks Sam, looking into it.",
		"c: This is the third time I'm asking about this. Ridiculous.",
		"click Claim",
		"nonsense",
		"new",
		"c2: We have been waiting two days for an answer. Unacceptable.",
		"click Claim",
		"click Claim 2", // the older of the two: the nudge's, in thread 1
		"c2: " + strings.Repeat("so slow ", 25000), // 200,000 characters on one line
		"thread 1",
		"react ✅",
		"/empathy tips waiting",
		"home",
	} {
		if _, err := io.WriteString(typing, line+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	// Nobody types: the reminder for thread 2 and the check-in for thread 1 arrive anyway.
	deadline := time.Now().Add(15 * time.Second)
	for !(strings.Contains(out.String(), "has been waiting") && strings.Contains(out.String(), "Time to follow up")) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	typing.Close()
	if err := <-done; err != nil {
		t.Fatalf("demo --interactive: %v\n%s", err, out)
	}
	transcript := out.String()
	// Slack's markup is shown as a person reads it in Slack.
	for _, raw := range []string{"<@U", "<!date", "&lt;", "&gt;", "<#C"} {
		if strings.Contains(transcript, raw) {
			t.Errorf("the transcript shows Slack's raw markup %q:\n%s", raw, transcript)
		}
	}
	if n := strings.Count(transcript, "clicks ["); n != 3 {
		t.Errorf("%d clicks, want 3 (Claim on the card, Claim 2 on the older nudge)", n)
	}
	for _, want := range []string{
		"Slack takes at most 40000 in a message",
		"Sam (customer): Hi, the export", "(thread 1)", "sounds frustrated", "clicks [:eyes: Claim]", "It's yours",
		"start the line with", "(thread 2)", "in #support-triage", "has no owner", "the card in #support-triage now reads", "claimed the frustrated customer",
		"(back in thread 1)", "reacts ✅ to thread 1", "When they have been waiting", "App Home (Dana)", "Open follow-ups",
		"A frustrated customer has been waiting", "Time to follow up",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("interactive transcript lacks %q:\n%s", want, transcript)
		}
	}
}

// Asking for help is success: bot help lists every variable, and demo
// --help prints its flags; both exit 0.
func TestHelpExitsZero(t *testing.T) {
	out, err := runCmd(t, "", "help")
	if err != nil || !strings.Contains(out, "EMPATHY_THRESHOLD") || !strings.Contains(out, "0.65") {
		t.Errorf("bot help: %v\n%s", err, out)
	}
	if _, err := runCmd(t, "", "demo", "--help"); err != nil {
		t.Errorf("bot demo --help: %v", err)
	}
	var ue usageError
	if _, err := runCmd(t, "", "demo", "--bogus"); !errors.As(err, &ue) {
		t.Errorf("bot demo --bogus: %v, want a usage error", err)
	}
}

// The README's "Explain one message" example is what `bot analyze` prints
// for its message, line for line, up to the "...".
func TestReadmeAnalyzeExampleMatches(t *testing.T) {
	readme := readRepo(t, "README.md")
	const cmd = `go run ./cmd/bot analyze "`
	i := strings.Index(readme, cmd)
	if i < 0 {
		t.Fatal("the README has no analyze example")
	}
	msg, _, _ := strings.Cut(readme[i+len(cmd):], "\"\n")
	// The command's block closes; the next block is its output.
	_, rest, ok1 := strings.Cut(readme[i:], "```\n")
	_, rest, ok2 := strings.Cut(rest, "```\n")
	block, _, ok3 := strings.Cut(rest, "```")
	if !ok1 || !ok2 || !ok3 {
		t.Fatal("no output block after the analyze example")
	}
	want, _, _ := strings.Cut(block, "...")
	out, err := runCmd(t, "", "analyze", msg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, want) {
		t.Errorf("the README shows:\n%s\nbot analyze prints:\n%s", want, out)
	}
}

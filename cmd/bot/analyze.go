package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"empathybot/internal/coach"
)

// maxLine bounds one JSON Lines record; a longer line is answered with an error
// object in its place and skipped, so one huge record cannot exhaust memory.
const maxLine = 4 << 20

// analyze explains one message given as arguments, or scores JSON Lines from stdin.
func analyze(args []string, stdin io.Reader, stdout io.Writer) error {
	c := coach.Default()
	if len(args) > 0 && args[0] != "-" {
		explain(stdout, c, strings.Join(args, " "))
		return nil
	}
	return analyzeLines(c, stdin, stdout)
}

type cueJSON struct {
	Kind     coach.CueKind `json:"kind"`
	Evidence string        `json:"evidence"`
	Weak     bool          `json:"weak,omitempty"` // a weak sign (see coach.Cue)
}

type resultJSON struct {
	Frustrated bool      `json:"frustrated"`
	Score      float64   `json:"score"`
	Cues       []cueJSON `json:"cues"`
	Language   string    `json:"language"`
	Unscored   bool      `json:"unscored,omitempty"`
}

// analyzeLines streams JSON Lines: each output line is its input object plus
// "frustrated", "score" and "cues", in input order. A bad line yields
// {"error": "..."} in its place; processing goes on. Output is flushed whenever
// the input has no more buffered data, so a pipe sees results batch by batch.
func analyzeLines(c *coach.Coach, stdin io.Reader, stdout io.Writer) error {
	in := bufio.NewReaderSize(stdin, 256<<10)
	out := bufio.NewWriterSize(stdout, 256<<10)
	var line []byte
	for n := 1; ; n++ {
		var err error
		var tooLong bool
		line, tooLong, err = readLine(in, line[:0])
		if len(line) > 0 || tooLong || err == nil {
			if tooLong {
				writeError(out, fmt.Sprintf("line %d: longer than %d bytes", n, maxLine))
			} else {
				analyzeOne(c, out, n, line)
			}
		}
		if err == io.EOF {
			return out.Flush()
		}
		if err != nil {
			out.Flush()
			return fmt.Errorf("read line %d: %w", n, err)
		}
		if in.Buffered() == 0 {
			if err := out.Flush(); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		}
	}
}

// readLine reads one line without its newline into buf. A line over maxLine is
// consumed and reported as tooLong. err is io.EOF at the end of the input.
func readLine(r *bufio.Reader, buf []byte) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if len(buf)+len(chunk) > maxLine {
			tooLong = true
			buf = buf[:0]
		} else if !tooLong {
			buf = append(buf, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		buf = bytes.TrimRight(buf, "\r\n")
		return buf, tooLong, err
	}
}

var ourKeys = []string{"frustrated", "score", "cues", "language", "unscored", "error"}

func analyzeOne(c *coach.Coach, out *bufio.Writer, n int, line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		writeError(out, fmt.Sprintf("line %d: empty line", n))
		return
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil || obj == nil {
		writeError(out, fmt.Sprintf("line %d: not a JSON object", n))
		return
	}
	var text string
	raw, ok := obj["text"]
	if !ok || json.Unmarshal(raw, &text) != nil {
		writeError(out, fmt.Sprintf("line %d: no string \"text\" field", n))
		return
	}
	a := c.Assess(text)
	res := resultJSON{Frustrated: a.Frustrated, Score: round3(a.Score), Cues: make([]cueJSON, 0, len(a.Cues)), Language: a.Language, Unscored: a.Unscored()}
	for _, cue := range a.Cues {
		res.Cues = append(res.Cues, cueJSON{cue.Kind, strings.ToValidUTF8(cue.Evidence, "\uFFFD"), cue.Weak})
	}
	clash := false
	for _, k := range ourKeys {
		if _, ok := obj[k]; ok {
			clash = true
		}
	}
	if clash {
		// The input already uses one of our field names: ours replace theirs.
		delete(obj, "error")
		obj["frustrated"], _ = json.Marshal(res.Frustrated)
		obj["score"], _ = json.Marshal(res.Score)
		obj["cues"], _ = json.Marshal(res.Cues)
		obj["language"], _ = json.Marshal(res.Language)
		if res.Unscored {
			obj["unscored"] = json.RawMessage("true")
		}
		b, _ := json.Marshal(obj)
		out.Write(b)
		out.WriteByte('\n')
		return
	}
	// Keep the input object byte for byte and append our fields before its closing brace.
	body := bytes.TrimSpace(line[:len(line)-1])
	out.Write(body)
	if len(obj) > 0 {
		out.WriteByte(',')
	}
	b, _ := json.Marshal(res)
	out.Write(b[1:])
	out.WriteByte('\n')
}

func writeError(out *bufio.Writer, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	out.Write(b)
	out.WriteByte('\n')
}

func round3(f float64) float64 {
	return float64(int64(f*1000+0.5)) / 1000
}

// explain prints a readable account of one message for a person.
func explain(w io.Writer, c *coach.Coach, text string) {
	a := c.Assess(text)
	if a.Unscored() {
		fmt.Fprintf(w, "Language: %s\n%s.\n", a.Language, sentence(c.Verdict(a)))
		return
	}
	verdict := "calm"
	if a.Frustrated {
		verdict = "FRUSTRATED"
	}
	fmt.Fprintf(w, "Score %.2f (threshold %.2f): %s\n", a.Score, c.Threshold, verdict)
	fmt.Fprintf(w, "Language: %s\n", a.Language)
	if len(a.Cues) == 0 {
		fmt.Fprintln(w, "Cues: none")
	} else {
		fmt.Fprintln(w, "Cues:")
		for _, cue := range a.Cues {
			fmt.Fprintf(w, "  - %s: %q — %s (weight %+.2f)\n", cue.Kind, cue.Evidence, coach.Explain(cue), cue.Weight)
		}
	}
	if !a.Frustrated {
		fmt.Fprintf(w, "%s.\n", sentence(c.Verdict(a)))
		return
	}
	s := c.Suggest(a, nil)
	fmt.Fprintf(w, "Technique: %s — %s\n", s.Tip.Technique, s.Tip.Title)
	fmt.Fprintf(w, "Why: %s\n", s.Tip.Why)
	fmt.Fprintf(w, "Try opening with: %s\n", s.Opening)
}

// sentence capitalises the first letter of s.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

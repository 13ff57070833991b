// Package corpus reads the labelled message sets the coach is trained and
// measured on, in each set's own format, into one shape: a text, whether it
// is frustrated, and which source (and, inside a source, which group: a
// company, a conversation) it came from. cmd/train and cmd/evaluate both
// read through it, so a source means the same thing to both.
//
// The sets themselves live outside the repository (shared/data): this
// package only knows their formats. Tests feed it small files they write.
package corpus

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// Item is one labelled message.
type Item struct {
	Text       string
	Frustrated bool
	// Source names the set the item came from ("twcs", "slack", ...).
	Source string
	// Group is a finer unit within the source: the company a customer
	// tweet was written to, a Slack conversation; empty when the source has
	// none.
	Group string
}

// Formats lists the formats Load reads.
var Formats = []string{"goemotions", "support", "slack", "twcs", "tweeteval"}

// Load reads the labelled messages of path in format, each marked with
// source. Messages the annotators disagreed on (label -1) are left out, as
// are messages that are not a customer's (twcs: the companies' replies).
func Load(path, format, source string) ([]Item, error) {
	switch format {
	case "goemotions":
		return loadGoEmotions(path, source)
	case "support":
		return loadSupport(path, source)
	case "slack":
		return loadSlack(path, source)
	case "twcs":
		return loadTWCS(path, source)
	case "tweeteval":
		return loadTweetEval(path, source)
	}
	return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// IsFrustrationLabel reports whether a GoEmotions label id counts as
// frustrated: anger (2), annoyance (3) or disappointment (9).
func IsFrustrationLabel(id string) bool { return id == "2" || id == "3" || id == "9" }

func loadGoEmotions(path, source string) ([]Item, error) {
	var items []Item
	err := eachLine(path, func(line string) error {
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			return fmt.Errorf("want text<TAB>labels")
		}
		lab := false
		for _, l := range strings.Split(f[1], ",") {
			lab = lab || IsFrustrationLabel(l)
		}
		it := Item{Text: f[0], Frustrated: lab, Source: source}
		if len(f) > 2 {
			it.Group = f[2]
		}
		items = append(items, it)
		return nil
	})
	return items, err
}

// loadSupport reads "label<TAB>text" lines; "#" lines are comments.
func loadSupport(path, source string) ([]Item, error) {
	var items []Item
	err := eachLine(path, func(line string) error {
		if strings.HasPrefix(line, "#") {
			return nil
		}
		l, text, ok := strings.Cut(line, "\t")
		if !ok || (l != "0" && l != "1") {
			return fmt.Errorf("want 0|1<TAB>text")
		}
		items = append(items, Item{Text: text, Frustrated: l == "1", Source: source})
		return nil
	})
	return items, err
}

func loadSlack(path, source string) ([]Item, error) {
	var items []Item
	err := eachLine(path, func(line string) error {
		var rec struct {
			Text         string `json:"text"`
			Conversation string `json:"conversation"`
			Frustrated   *int   `json:"frustrated"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Frustrated == nil {
			return fmt.Errorf("want a JSON object with text and frustrated")
		}
		if *rec.Frustrated < 0 {
			return nil // the annotators disagreed: not scored
		}
		items = append(items, Item{Text: rec.Text, Frustrated: *rec.Frustrated == 1, Source: source, Group: rec.Conversation})
		return nil
	})
	return items, err
}

// Tweet is one tweet of a twcs file: a customer's or the company's.
type Tweet struct {
	ID, Conversation string
	// Author is "customer", or the company's support account.
	Author string
	At     time.Time
	Text   string
	// Frustrated is the label of a customer tweet: 1, 0, or -1 (the
	// annotators disagreed); nil on the company's tweets.
	Frustrated *int
}

// ReadTWCS reads every tweet of a twcs file (one JSON object a line: id,
// conversation, author, created_at, text, and frustrated on customer
// tweets), in the file's order.
func ReadTWCS(path string) ([]Tweet, error) {
	var out []Tweet
	err := eachLine(path, func(line string) error {
		var r struct {
			ID           string `json:"id"`
			Conversation string `json:"conversation"`
			Author       string `json:"author"`
			CreatedAt    string `json:"created_at"`
			Text         string `json:"text"`
			Frustrated   *int   `json:"frustrated"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.Author == "" {
			return fmt.Errorf("want a JSON object with author and text")
		}
		t := Tweet{ID: r.ID, Conversation: r.Conversation, Author: r.Author, Text: r.Text, Frustrated: r.Frustrated}
		if r.CreatedAt != "" {
			at, err := time.Parse(time.RubyDate, r.CreatedAt)
			if err != nil {
				return fmt.Errorf("created_at: %v", err)
			}
			t.At = at
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// loadTWCS reads the customer tweets of a twcs file. Each is grouped by the
// company its conversation was with: the author of the conversation's
// other tweets.
func loadTWCS(path, source string) ([]Item, error) {
	tweets, err := ReadTWCS(path)
	if err != nil {
		return nil, err
	}
	company := map[string]string{}
	for _, t := range tweets {
		if t.Author != "customer" {
			company[t.Conversation] = t.Author
		}
	}
	var items []Item
	for _, t := range tweets {
		if t.Author != "customer" || t.Frustrated == nil || *t.Frustrated < 0 {
			continue
		}
		items = append(items, Item{Text: t.Text, Frustrated: *t.Frustrated == 1, Source: source, Group: company[t.Conversation]})
	}
	return items, nil
}

// loadTweetEval reads a TweetEval sentiment split: one tweet a line in
// path (X_text.txt) and its label on the same line of X_labels.txt beside
// it; negative (0) counts as frustrated.
func loadTweetEval(path, source string) ([]Item, error) {
	base, ok := strings.CutSuffix(path, "_text.txt")
	if !ok {
		return nil, fmt.Errorf("%s: want a TweetEval *_text.txt file", path)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	labels, err := os.ReadFile(base + "_labels.txt")
	if err != nil {
		return nil, err
	}
	texts := strings.Split(strings.TrimRight(string(text), "\n"), "\n")
	labs := strings.Split(strings.TrimRight(string(labels), "\n"), "\n")
	if len(texts) != len(labs) {
		return nil, fmt.Errorf("%s: %d texts but %d labels", path, len(texts), len(labs))
	}
	items := make([]Item, len(texts))
	for i, t := range texts {
		l := strings.TrimSpace(labs[i])
		if l != "0" && l != "1" && l != "2" {
			return nil, fmt.Errorf("%s_labels.txt:%d: want 0, 1 or 2", base, i+1)
		}
		items[i] = Item{Text: t, Frustrated: l == "0", Source: source}
	}
	return items, nil
}

// eachLine calls fn with each non-empty line of path; an error names the
// file and line.
func eachLine(path string, fn func(string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if sc.Text() == "" {
			continue
		}
		if err := fn(sc.Text()); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
}

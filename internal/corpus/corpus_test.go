package corpus

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A twcs file yields the customers' labelled tweets only, each grouped by
// the company of its conversation; a disputed label (-1) is left out.
func TestTWCS(t *testing.T) {
	p := write(t, "twcs.jsonl", `{"id":"1","conversation":"1","author":"customer","text":"where is my parcel, 3 weeks now","frustrated":1}
{"id":"2","conversation":"1","author":"AcmeHelp","text":"Sorry to hear that, DM us"}
{"id":"3","conversation":"1","author":"customer","text":"done","frustrated":0}
{"id":"4","conversation":"4","author":"customer","text":"hmm","frustrated":-1}
{"id":"5","conversation":"4","author":"OtherCo","text":"Hi!"}
{"id":"6","conversation":"6","author":"customer","text":"thanks!","frustrated":0}
`)
	items, err := Load(p, "twcs", "twcs")
	if err != nil {
		t.Fatal(err)
	}
	want := []Item{
		{"where is my parcel, 3 weeks now", true, "twcs", "AcmeHelp"},
		{"done", false, "twcs", "AcmeHelp"},
		{"thanks!", false, "twcs", ""},
	}
	if len(items) != len(want) {
		t.Fatalf("got %+v, want %+v", items, want)
	}
	for i := range want {
		if items[i] != want[i] {
			t.Errorf("item %d: %+v, want %+v", i, items[i], want[i])
		}
	}
}

// Each format reads its own shape, and a malformed line is an error that
// names the file and the line.
func TestFormats(t *testing.T) {
	ge := write(t, "ge.tsv", "so annoying\t3\tid1\nlovely\t27\tid2\n")
	items, err := Load(ge, "goemotions", "ge")
	if err != nil || len(items) != 2 || !items[0].Frustrated || items[1].Frustrated || items[0].Group != "id1" {
		t.Errorf("goemotions: %+v %v", items, err)
	}
	sup := write(t, "s.tsv", "# comment\n1\tthird time asking\n0\tthanks\n")
	if items, err := Load(sup, "support", "s"); err != nil || len(items) != 2 || !items[0].Frustrated {
		t.Errorf("support: %+v %v", items, err)
	}
	sl := write(t, "s.jsonl", `{"text":"ugh","frustrated":1,"conversation":"9"}`+"\n"+`{"text":"x","frustrated":-1}`+"\n")
	if items, err := Load(sl, "slack", "slack"); err != nil || len(items) != 1 || items[0].Group != "9" {
		t.Errorf("slack: %+v %v", items, err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "val_text.txt"), []byte("bad day\nnice\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "val_labels.txt"), []byte("0\n2\n"), 0o644)
	if items, err := Load(filepath.Join(dir, "val_text.txt"), "tweeteval", "te"); err != nil || len(items) != 2 || !items[0].Frustrated || items[1].Frustrated {
		t.Errorf("tweeteval: %+v %v", items, err)
	}
	bad := write(t, "bad.tsv", "1\tok\nnot a label line\n")
	if _, err := Load(bad, "support", "s"); err == nil || !strings.Contains(err.Error(), "bad.tsv:2") {
		t.Errorf("malformed line: err = %v, want one naming bad.tsv:2", err)
	}
	if _, err := Load(bad, "csv", "s"); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("unknown format: err = %v", err)
	}
}

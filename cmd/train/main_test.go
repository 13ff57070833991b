package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noShared switches off the sources that live outside the repository.
var noShared = []string{"-twcs", "", "-slack", "", "-tweeteval", ""}

// trainFiles writes a tiny GoEmotions-style file and a support file, written
// for this test, and returns their paths.
func trainFiles(t *testing.T) (goemo, support string) {
	t.Helper()
	dir := t.TempDir()
	var ge, sup strings.Builder
	calm := []string{"what a lovely day for a walk", "thanks so much, that was kind", "i think the movie was fine", "we can meet at noon"}
	angry := []string{"this is so annoying and stupid", "i hate it when they do that", "ugh what a terrible waste of time", "how dare you say that"}
	for i := 0; i < 12; i++ {
		for _, s := range calm {
			ge.WriteString(s + "\t27\tid\n")
		}
		for _, s := range angry {
			ge.WriteString(s + "\t2\tid\n")
		}
	}
	sup.WriteString("# label<TAB>text\n")
	for i := 0; i < 6; i++ {
		sup.WriteString("0\tcan you change the address on my order please\n")
		sup.WriteString("1\tthis is the third time I ask, nobody answers, I am so annoyed\n")
	}
	goemo, support = filepath.Join(dir, "ge.tsv"), filepath.Join(dir, "support.tsv")
	if err := os.WriteFile(goemo, []byte(ge.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(support, []byte(sup.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return goemo, support
}

// Training is reproducible, and -check tells a model that is what training
// writes from one that is not.
func TestTrainIsReproducibleAndCheckNoticesAChange(t *testing.T) {
	goemo, support := trainFiles(t)
	out := filepath.Join(t.TempDir(), "weights.tsv")
	args := append(noShared, "-goemotions", goemo, "-support", support, "-min-df", "2", "-pair-min-df", "2", "-out", out)
	var stdout bytes.Buffer
	if err := run(args, &stdout); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bias\t", "domain:support\t", "w:annoying\t", "b:how dare\t"} {
		if !bytes.Contains(first, []byte("\n"+want)) {
			t.Errorf("weights lack a %q line", want)
		}
	}
	if err := run(append(args, "-check"), &stdout); err != nil {
		t.Errorf("-check on what training just wrote: %v", err)
	}
	if err := run(args, &stdout); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(out); !bytes.Equal(first, again) {
		t.Error("training twice on the same data wrote different weights")
	}
	if err := os.WriteFile(out, bytes.Replace(first, []byte("bias\t"), []byte("bias\t1"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(append(args, "-check"), &stdout); err == nil || !strings.Contains(err.Error(), "not what training writes") {
		t.Errorf("-check on an edited model: err = %v, want one saying it is stale", err)
	}
}

// -loso fits on every source but one and measures on that one, for each
// source, and writes nothing. On this separable data, a model that never
// saw the support file still ranks its messages right.
func TestLeaveOneSourceOut(t *testing.T) {
	goemo, support := trainFiles(t)
	out := filepath.Join(t.TempDir(), "weights.tsv")
	var stdout bytes.Buffer
	args := append(noShared, "-goemotions", goemo, "-support", support, "-min-df", "2", "-pair-min-df", "2", "-out", out, "-loso")
	if err := run(args, &stdout); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("-loso wrote %s", out)
	}
	var n, frust int
	var auc float64
	found := false
	for _, line := range strings.Split(stdout.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "without support "); ok {
			if _, err := fmt.Sscan(rest, &n, &frust, &auc); err != nil {
				t.Fatalf("row %q: %v", line, err)
			}
			found = true
		}
	}
	if !found || n != 12 || frust != 6 || auc < 0.9 {
		t.Errorf("held-out support row: n %d frustrated %d AUC %.3f, want 12, 6 and >= 0.9\n%s", n, frust, auc, stdout.String())
	}
}

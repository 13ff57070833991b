package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
	args := []string{"-goemotions", goemo, "-support", support, "-min-df", "2", "-pair-min-df", "2", "-out", out}
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

// -validate holds out GoEmotions comments, writes nothing, and reports their
// AUC, which on this separable data is high.
func TestValidateReportsHeldOutAUC(t *testing.T) {
	goemo, support := trainFiles(t)
	out := filepath.Join(t.TempDir(), "weights.tsv")
	var stdout bytes.Buffer
	if err := run([]string{"-goemotions", goemo, "-support", support, "-min-df", "2", "-out", out, "-validate", "4"}, &stdout); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("-validate wrote %s", out)
	}
	var auc float64
	var n int
	line := stdout.String()[strings.LastIndex(stdout.String(), "held-out"):]
	if _, err := fmt.Sscanf(line, "held-out GoEmotions AUC %f (%d comments)", &auc, &n); err != nil {
		t.Fatalf("no AUC in %q: %v", line, err)
	}
	if n == 0 || auc < 0.9 {
		t.Errorf("held-out AUC %.3f on %d comments, want >= 0.9 on separable data", auc, n)
	}
}

func TestHeldOutAUC(t *testing.T) {
	exs := []example{
		{feats: []int{0}, vals: []float64{1}, label: 1},
		{feats: []int{0}, vals: []float64{2}, label: 1},
		{feats: []int{0}, vals: []float64{0}, label: 0},
		{feats: []int{0}, vals: []float64{2}, label: 0},
	}
	// Scores 1 and 2 (frustrated), 0 and 2 (calm): of the four pairs, 1>0
	// and 2>0 are ranked right, 1<2 wrong, and 2=2 counts half.
	got := heldOutAUC(exs, []int{0, 1, 2, 3}, []float64{1})
	if want := 2.5 / 4; math.Abs(got-want) > 1e-12 {
		t.Errorf("AUC %v, want %v", got, want)
	}
	if got := heldOutAUC(exs, []int{0, 1}, []float64{1}); !math.IsNaN(got) {
		t.Errorf("AUC of one class only: %v, want NaN", got)
	}
}

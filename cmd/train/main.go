// Command train fits the coach's scoring model (see internal/learn) and
// writes it to internal/coach/model/weights.tsv, where the coach embeds it.
//
// It learns from five labelled sources, each weighted per message
// (-source-weights) and with its classes balanced:
//
//   - GoEmotions train (shared/data/goemotions): Reddit comments, frustrated
//     when they carry anger, annoyance or disappointment;
//   - internal/coach/traindata/support.tsv: support-style messages written
//     for this project;
//   - shared/data/twcs: customers' tweets to 35 companies' support accounts;
//   - shared/data/slackchats: the 1,500 labelled messages of a Slack help
//     channel;
//   - TweetEval sentiment (validation and test): negative counts as
//     frustrated.
//
// The sources a user's clone lacks (shared/ is beside the repository, not
// in it) can be switched off with an empty path.
//
//	go run ./cmd/train            # rewrites the model
//	go run ./cmd/train -check     # fails unless the committed model is what it writes
//	go run ./cmd/train -loso      # the leave-one-source-out table; writes nothing
//
// Settings, source weights and the coach's threshold were chosen on the
// -loso table (each source scored by a model fitted without it, and the
// twcs companies in folds), never on a fit's own data; README gives the
// table.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"empathybot/internal/learn"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	std := learn.StandardPaths
	goemo := fs.String("goemotions", std["goemotions"], "GoEmotions train TSV (empty: not used)")
	support := fs.String("support", std["support"], "support-style examples written for this project, label<TAB>text (empty: not used)")
	twcs := fs.String("twcs", std["twcs"], "labelled customer tweets to support accounts (empty: not used)")
	slack := fs.String("slack", std["slack"], "labelled Slack help-channel messages (empty: not used)")
	tweeteval := fs.String("tweeteval", std["tweeteval"], "TweetEval sentiment splits, comma-separated; negative counts as frustrated (empty: not used)")
	weightsFlag := fs.String("source-weights", learn.DefaultWeights, "each source's weight per message, relative to a GoEmotions comment")
	out := fs.String("out", "internal/coach/model/weights.tsv", "where to write the weights")
	st := learn.DefaultSettings()
	fs.IntVar(&st.Epochs, "epochs", st.Epochs, "passes over the data")
	fs.Float64Var(&st.L2, "l2", st.L2, "L2 penalty per update")
	fs.Float64Var(&st.PhrasePenalty, "phrase-penalty", st.PhrasePenalty, "L2 multiplier for single phrases, relative to words")
	fs.IntVar(&st.MinDF, "min-df", st.MinDF, "drop words seen in fewer messages than this")
	fs.Float64Var(&st.PairPenalty, "pair-penalty", st.PairPenalty, "L2 multiplier for word pairs, relative to words")
	fs.IntVar(&st.PairMinDF, "pair-min-df", st.PairMinDF, "drop word pairs seen in fewer messages than this")
	fs.Float64Var(&st.PairMinWeight, "pair-min-weight", st.PairMinWeight, "drop word pairs that weigh less than this either way")
	fs.Float64Var(&st.KindFloor, "kind-floor", st.KindFloor, "least weight of each reportable cue kind (see below)")
	fs.Float64Var(&st.Balance, "balance", st.Balance, "how far classes are balanced within each source: 1 fully, 0 not at all")
	fs.Float64Var(&st.RoomFloor, "room-floor", st.RoomFloor, "least weight of the cue kinds a support room knows as upset (see roomKinds)")
	fs.Float64Var(&st.Threshold, "threshold", st.Threshold, "the verdict's threshold, for the -loso table")
	check := fs.Bool("check", false, "write nothing; fail unless -out holds exactly what training writes (the model is up to date with its data, lexicons and code)")
	loso := fs.Bool("loso", false, "write nothing; for each source, fit on the others and measure on it (leave one source out), and measure twcs by company (-company-folds)")
	errorsTo := fs.String("errors", "", "with -loso: write each held-out set's errors at -threshold to this file (it holds the messages' text: keep it out of the repository)")
	companyFolds := fs.Int("company-folds", learn.CompanyFolds, "with -loso: folds of twcs companies, each scored by a fit on every other source and the other companies")
	if err := fs.Parse(args); err != nil {
		return err
	}
	weights, err := learn.ParseWeights(*weightsFlag)
	if err != nil {
		return err
	}
	sources, err := learn.Sources(map[string]string{
		"goemotions": *goemo, "support": *support, "twcs": *twcs, "slack": *slack, "tweeteval": *tweeteval,
	}, weights)
	if err != nil {
		return err
	}
	d, err := learn.Load(sources)
	if err != nil {
		return err
	}
	if *loso {
		var errs io.Writer
		if *errorsTo != "" {
			f, err := os.Create(*errorsTo)
			if err != nil {
				return err
			}
			defer f.Close()
			errs = f
		}
		return learn.LeaveOneOut(stdout, d, st, *companyFolds, errs)
	}
	w, names := learn.Fit(d, st, func(int) bool { return true }, stdout)
	buf := learn.Write(d, st, w, names)
	if *check {
		old, err := os.ReadFile(*out)
		if err != nil {
			return err
		}
		if !bytes.Equal(old, buf) {
			return fmt.Errorf("%s is not what training writes now: run go run ./cmd/train and commit the result", *out)
		}
		fmt.Fprintf(stdout, "%s is up to date\n", *out)
		return nil
	}
	if err := os.WriteFile(*out, buf, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}

package slackio

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"empathybot/internal/coach"
	"empathybot/internal/support"
)

func testBot() *Bot {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sl := NewSlack(Credentials{BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: "http://127.0.0.1:1/api/"}, nil)
	dir := NewDirectory(log, sl, DirectoryConfig{Agents: []string{"UAGENT"}}, nil)
	dir.setSelf("TUS", "")
	return NewBot(log, sl, coach.Default(), nil, dir, nil, Config{Channels: []string{"CSUP"}})
}

// FuzzSlashCommand: whatever anyone types after /empathy, the answer is
// private, never empty, never raw Slack markup from the input, and state-
// changing subcommands are deferred past the ack; customers get the refusal.
func FuzzSlashCommand(f *testing.F) {
	for _, s := range []string{"", "help", "tips waiting", "tips <!channel>", "check Sorry for the inconvenience",
		"analyze I WANT A REFUND!!!", "oncall <@U123|x>", "snooze 2h", "snooze -1d", "remind 99999999999d", "stats",
		"<!here> ping", "\xff\xfe", strings.Repeat("a", 5000), "TIPS Waiting", "check \x00",
		"pause 30m", "pause -1m", "pause 9h", "pause off", "oncall <@U1|a> <@U2|b> me", "oncall <@U1|a> junk"} {
		f.Add("UAGENT", "CSUP", s)
		f.Add("UCUST", "CSUP", s)
	}
	b := testBot()
	f.Fuzz(func(t *testing.T, user, channel, text string) {
		now, later := b.command(slack.SlashCommand{UserID: user, ChannelID: channel, TeamID: "TUS", Text: text})
		if (now == nil) == (later == nil) {
			t.Fatalf("want exactly one of an immediate or a deferred answer for %q", text)
		}
		if now == nil {
			return // deferred: runs on a worker, after the ack
		}
		if now.ResponseType != "ephemeral" || now.Text == "" {
			t.Fatalf("answer %+v to %q", now, text)
		}
		if user != "UAGENT" && now.Text != refusal {
			t.Fatalf("non-agent %q got %q", user, now.Text)
		}
		for _, markup := range []string{"<!channel>", "<!here>", "<!everyone>"} {
			if strings.Contains(now.Text, markup) {
				t.Fatalf("the answer to %q carries %s", text, markup)
			}
		}
		if utf8.ValidString(text) && !utf8.ValidString(now.Text) {
			t.Fatalf("invalid UTF-8 in the answer to %q", text)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30m", "2h", "1d", "0", "-1h", "1e9h", "9999999999d", "d", " 5m ", "1h30m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err == nil && d <= 0 {
			t.Fatalf("parseDuration(%q) = %v with no error", s, d)
		}
	})
}

func TestCommandRouting(t *testing.T) {
	b := testBot()
	cases := []struct {
		user, channel, text string
		deferred            bool
		want                string
	}{
		{"UAGENT", "CSUP", "help", false, "/empathy check"},
		{"UAGENT", "CSUP", "oncall", true, ""},
		{"UAGENT", "CSUP", "stats", true, ""},
		{"UAGENT", "CSUP", "remind 1h", true, ""},
		{"UAGENT", "COTHER", "oncall me", false, "only work in the support channels"},
		{"UAGENT", "COTHER", "stats", false, "only work in the support channels"},
		{"UAGENT", "COTHER", "check hello", false, "thoughts on your draft"},
		{"UCUST", "CSUP", "help", false, refusal},
		{"UAGENT", "CSUP", "<!channel> hi", false, "I don't know `&lt;!channel&gt;`"},
	}
	for _, c := range cases {
		now, later := b.command(slack.SlashCommand{UserID: c.user, ChannelID: c.channel, TeamID: "TUS", Text: c.text})
		if c.deferred {
			if later == nil {
				t.Errorf("%s in %s: answered at once, want deferred past the ack", c.text, c.channel)
			}
			continue
		}
		if now == nil || !strings.Contains(now.Text, c.want) {
			t.Errorf("%s by %s in %s: %+v, want %q", c.text, c.user, c.channel, now, c.want)
		}
	}
	if d, err := parseDuration("2d"); err != nil || d != 48*time.Hour {
		t.Errorf("2d = %v %v", d, err)
	}
}

// A response_url is a credential: a failed post must not put it in an error.
func TestFailedResponseURLPostHidesTheURL(t *testing.T) {
	b := testBot()
	secret := "http://127.0.0.1:1/commands/T0/123/s3cretToken"
	err := b.respond(context.Background(), secret, ephemeral("hi"))
	if err == nil {
		t.Fatal("a post to a closed port succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "/commands/") {
		t.Errorf("the error shows the response_url: %v", err)
	}
}

// Slack sends text entity-escaped; quoting it back escapes it once, not
// twice ("&lt;" must not show as "&amp;lt;").
func TestEscapeOnce(t *testing.T) {
	for in, want := range map[string]string{
		"a &lt;b&gt; &amp; c": "a &lt;b&gt; &amp; c", // from Slack
		"a <b> & c":           "a &lt;b&gt; &amp; c", // our own text
		"&amp;lt;":            "&amp;lt;",            // a literal "&lt;" typed by someone
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// /empathy help is mrkdwn: a bare <…> would be read as markup and vanish.
func TestHelpHasNoBareAngleBrackets(t *testing.T) {
	if strings.ContainsAny(helpText, "<>") {
		t.Errorf("help text holds a bare < or >: %s", helpText)
	}
}

// /empathy tips for a cue with no tips of its own (a learned tone span)
// lists the general tips, as a nudge for it would use, never an empty list.
func TestTipsForToneListsGeneralTips(t *testing.T) {
	got := testBot().tipsText(coach.Tone)
	if strings.Count(got, "• ") == 0 {
		t.Errorf("tips for tone list nothing:\n%s", got)
	}
}

// A posting call whose context is over before it starts is not made, and
// is not taken for one that may have reached Slack (which would never be
// sent again); one that fails after the request went out is, and is not
// repeated in place.
func TestRetryTellsNotSentFromMaybeSent(t *testing.T) {
	b := testBot()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	err := b.web.retry(ctx, "chat.postEphemeral", func() error { calls++; return nil })
	if calls != 0 || err == nil || errors.Is(err, errMaybeDelivered) {
		t.Errorf("cancelled before the call: %d calls, err %v", calls, err)
	}
	calls = 0
	lost := &url.Error{Op: "Post", URL: "https://slack.test/api/chat.postEphemeral", Err: io.EOF}
	err = b.web.retry(context.Background(), "chat.postEphemeral", func() error { calls++; return lost })
	if calls != 1 || !errors.Is(err, errMaybeDelivered) {
		t.Errorf("answer lost: %d calls, err %v; want 1 call and errMaybeDelivered", calls, err)
	}
	calls = 0
	refused := &url.Error{Op: "Post", URL: "https://slack.test/api/chat.postEphemeral", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}
	err = b.web.retry(context.Background(), "chat.postEphemeral", func() error {
		calls++
		if calls < 2 {
			return refused
		}
		return nil
	})
	if calls != 2 || err != nil {
		t.Errorf("a refused connection is retried: %d calls, err %v", calls, err)
	}
}

// /empathy analyze of a long message lists each cue once, with a count,
// not once per time the customer said it.
func TestAnalyzeListsEachCueOnce(t *testing.T) {
	b := testBot()
	text := strings.Repeat("It's still broken. I've been waiting 3 days. ", 40) + "Ridiculous!"
	out := b.analyzeText(text)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		if !strings.HasPrefix(l, "• ") {
			continue
		}
		cue, _, _ := strings.Cut(l, " ×")
		if seen[cue] {
			t.Errorf("cue listed twice: %q\n%s", cue, out)
		}
		seen[cue] = true
	}
	if len(lines) > 12 || !strings.Contains(out, "×") {
		t.Errorf("%d lines, want each cue once with its count:\n%s", len(lines), out)
	}
}

// A 429 is waited out in place for a person waiting on an answer (up to
// maxInlineWait); the Notifier, which works for the queue, waits out none
// and hands the Retry-After back for the queue to retry the whole task.
func TestRateLimitWaitedInPlaceOnlyForPeople(t *testing.T) {
	b := testBot()
	n := NewNotifier(b.log, NewSlack(Credentials{APIURL: "http://127.0.0.1:1/api/"}, nil), false, nil)
	limited := func(calls *int) func() error {
		return func() error {
			*calls++
			if *calls == 1 {
				return &slack.RateLimitedError{RetryAfter: time.Millisecond}
			}
			return nil
		}
	}
	calls := 0
	if err := b.web.retry(context.Background(), "views.publish", limited(&calls)); err != nil || calls != 2 {
		t.Errorf("for a person: %d calls, err %v; want the 429 waited out and the call made again", calls, err)
	}
	calls = 0
	err := n.web.retry(context.Background(), "chat.postMessage", limited(&calls))
	var later *support.RetryLater
	if calls != 1 || !errors.As(err, &later) || later.After != time.Millisecond {
		t.Errorf("for the queue: %d calls, err %v; want one call and a RetryLater of 1ms", calls, err)
	}
}

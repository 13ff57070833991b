package coach

import (
	"encoding/json"
	"strings"
	"testing"
)

// A nudge waits in Redis as a Basis, which keeps no customer text: its
// quote is our own words. An angry emoji, a ping and a span of words the
// model learned are quoted (issue 22: such nudges quoted “”); words of the
// customer's own that we do not know are not kept.
func TestBasisQuotesOurOwnWords(t *testing.T) {
	c := Default()
	for _, tt := range []struct{ text, quote string }{
		{"😤", "😤"},
		{"this is :rage:", ":rage:"},
		{"Hello??", "hello"},
		{"Per my last message, we still need the export fixed.", "per my last message"},
	} {
		if b := c.Basis(c.Assess(tt.text)); b.Quote != tt.quote || b.Kind == "" {
			t.Errorf("Basis(%q) = %+v, want quote %q", tt.text, b, tt.quote)
		}
	}
	if q := c.ownQuote("zorblax quuxified"); q != "" {
		t.Errorf("unknown words kept as a quote: %q", q)
	}
}

// What waits in the queue holds none of the customer's or the agent's
// other words: a wait is a few digits and a unit, never a card number
// before "days"; a review quotes the phrase's words, never the markup, an
// address or a token between them.
func TestQueuedTextIsOurOwn(t *testing.T) {
	c := Default()
	for _, msg := range []string{
		"I've been waiting 4111111111111111 days for my refund and nobody answers. Unacceptable!",
		"Still waiting since 4111111111111111, this is ridiculous!!",
	} {
		b, _ := json.Marshal(c.Basis(c.Assess(msg)))
		if strings.Contains(string(b), "4111") {
			t.Errorf("the nudge for %q keeps the customer's number: %s", msg, b)
		}
	}
	if w := c.Basis(c.Assess("I've been waiting 3 days for my refund and nobody answers. Unacceptable!")).Wait; w != "3 days" {
		t.Errorf("a real wait is kept: %q", w)
	}
	for _, reply := range []string{
		"As per our <https://example.com/p?token=S3CRET|policy>, refunds take 5 days.",
		"You should <mailto:ana.secret@example.com|have> read the docs.",
		"As per our `S3CRET-token` policy, refunds take 5 days.",
		"Sorry for the inconvenience ana.secret@example.com",
	} {
		for _, f := range c.Review(reply, Assessment{Frustrated: true}) {
			for _, s := range []string{f.Evidence, f.Suggestion} {
				if strings.Contains(s, "S3CRET") || strings.Contains(s, "example") || strings.Contains(s, "secret") {
					t.Errorf("the review of %q keeps text that is not the phrase's: %q", reply, s)
				}
			}
		}
	}
}

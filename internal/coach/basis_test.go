package coach

import "testing"

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

package coach

import (
	"bufio"
	"math"
	"math/bits"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

func kinds(a Assessment) []CueKind {
	var out []CueKind
	for _, c := range a.Cues {
		if !slices.Contains(out, c.Kind) {
			out = append(out, c.Kind)
		}
	}
	return out
}

func TestAssessNamesTheCues(t *testing.T) {
	tests := []struct {
		name       string
		text       string
		frustrated bool
		want       []CueKind // each must be present
		not        []CueKind // each must be absent
	}{
		{"repeated contact", "This is the third time I'm asking for an invoice.", true, []CueKind{RepeatedContact}, nil},
		{"still not working", "It's still not working after the update", false, []CueKind{RepeatedContact}, nil},
		{"waiting on hold", "I've been on hold for an hour", true, []CueKind{Waiting}, nil},
		{"waiting days", "No response for two days now", true, []CueKind{Waiting}, nil},
		{"waiting minutes", "I've been refreshing this page for 40 minutes", false, []CueKind{Waiting}, nil},
		{"broken promise", "You said it would ship on Monday and it was supposed to be here by now", false, []CueKind{BrokenPromise}, nil},
		{"churn threat", "Honestly I'm ready to cancel my account and switch to a competitor", true, []CueKind{ChurnThreat}, nil},
		{"escalation", "I want to speak to a manager right now", true, []CueKind{Escalation}, nil},
		{"shouting caps", "WHY IS MY ORDER NOT HERE", false, []CueKind{Shouting}, nil},
		{"shouting punctuation", "where is my refund!!!", true, []CueKind{Shouting}, nil},
		{"shouting around an acronym", "FIX IT, the export has been broken all week", true, []CueKind{Shouting}, nil},
		{"profanity", "this is bullshit, the app is broken", true, []CueKind{Profanity}, nil},
		{"censored profanity", "what the f**k happened to my data", true, []CueKind{Profanity}, nil},
		{"sarcasm stock phrase", "Thanks for nothing.", true, []CueKind{Sarcasm}, nil},
		{"sarcasm praise amid complaint", "Great, it crashed again.", true, []CueKind{Sarcasm, RepeatedContact}, nil},
		{"negative emotion", "I'm really frustrated with this, it's unacceptable", true, []CueKind{NegativeEmotion}, nil},
		{"angry emoji", "my card was declined again :rage:", true, []CueKind{NegativeEmotion}, nil},
		{"angry unicode emoji", "charged twice 😡", true, []CueKind{NegativeEmotion}, nil},
		{"urgency and impact", "I'm losing money every hour this is down", false, []CueKind{Urgency}, nil},
		{"impact occasion", "My wedding is tomorrow and the rings haven't arrived", false, []CueKind{Urgency}, nil},
		{"failure", "The checkout keeps crashing and I can't log in", false, []CueKind{Failure}, nil},
		{"lost in delivery", "excellent, my parcel is lost", true, []CueKind{Failure, Sarcasm}, nil},
		{"lost on the way", "the replacement parcel got lost as well", false, []CueKind{Failure}, nil},
		{"praise beside a churn threat", "Brilliant service. Close my account.", true, []CueKind{ChurnThreat, Sarcasm}, nil},
		{"complaint adjective", "the new seats are tacky and the staff were disrespectful", true, []CueKind{NegativeEmotion}, nil},
		{"exasperation naming no feeling", "you had one job, the order is still not here", true, []CueKind{NegativeEmotion}, nil},
		{"contempt from staff", "the agent at the desk laughed at me when I asked about my refund", true, []CueKind{NegativeEmotion}, nil},
		{"nobody can say", "nobody knows where my parcel is", true, []CueKind{NegativeEmotion}, nil},
		{"quoting what they were told", "that's not what the rep told me yesterday", false, []CueKind{BrokenPromise}, nil},
		{"sarcastic tag", "lost my bag again. cool", true, []CueKind{Sarcasm, Failure}, nil},
		{"praise beside a complaint", "Service was great as always. Still no refund.", true, []CueKind{Sarcasm}, nil},
		{"damage", "the delivery men dented the fridge and then left", false, []CueKind{Failure}, nil},
		{"a refusal", "they refused to refund me for the blender", false, []CueKind{Failure}, nil},
		{"done without a word", "you moved me to a dearer plan without telling me", false, []CueKind{Failure}, nil},
		{"said it already", "I already said that in my first message", false, []CueKind{RepeatedContact}, nil},
		{"done with no reason given", "you froze my card and won't say why", false, []CueKind{Failure}, nil},
		{"spoiled delivery", "pizza arrived cold and the box was crushed", false, []CueKind{Failure}, nil},
		{"a wait in minutes", "75 min wait for a taxi that never came", false, []CueKind{Waiting}, nil},
		{"passed around", "I got transferred 4 times and nobody could help", true, []CueKind{RepeatedContact}, nil},

		// Cues named, no verdict alone. A problem report (failure, urgency)
		// is not frustration (issue 15); "again", "40 minutes", "still not"
		// are weak; and the others above marked false score below the
		// threshold set on real Slack traffic (0.60) when nothing else in
		// the message is upset: the thread's trajectory (InThread)
		// raises them when the customer has been waiting.
		// 0.57 since the model learned word pairs (it was 0.6x): sarcasm's
		// weight is at its floor, GoEmotions reading "great" as often glad.
		{"spoiled goods, sarcastic tag", "the delivery was mouldy bread and a dented tin. great", false, []CueKind{Failure, Sarcasm}, nil},
		{"shouting in a complaint", "WHY IS MY ORDER STILL NOT HERE, this is ridiculous", true, []CueKind{Shouting, NegativeEmotion}, nil},
		{"repeated contact with feeling", "This is the third time I'm asking for an invoice. Really frustrating.", true, []CueKind{RepeatedContact, NegativeEmotion}, nil},

		{"gratitude", "Thanks, that fixed it!", false, nil, []CueKind{Sarcasm, NegativeEmotion}},
		{"no worries", "No worries, take your time.", false, nil, nil},
		{"not a problem", "Not a problem at all.", false, nil, nil},
		{"negated emotion", "I'm not frustrated, just curious how exports work.", false, nil, []CueKind{NegativeEmotion}},
		{"plain question", "How do I add a teammate to our workspace?", false, nil, nil},
		{"acronyms are not shouting", "Does the API support SSO via SAML on iOS?", false, nil, []CueKind{Shouting}},
		{"praise without complaint", "Great, thanks for the quick help!", false, nil, []CueKind{Sarcasm}},
		{"thanks again", "Thanks again for your help", false, nil, []CueKind{RepeatedContact}},
		{"polite self-deprecation", "I don't want to be a hassle, but could you check my order?", false, nil, []CueKind{NegativeEmotion}},
		{"lost in the app", "Sorry, I got lost in the menus, where do I find the export button?", false, nil, []CueKind{Failure}},
		{"self-blame", "sorry, I was careless and deleted the folder, can you restore it?", false, nil, []CueKind{NegativeEmotion}},
		{"reported, not complained of", "the page froze once earlier but it's working fine now, just flagging it", false, nil, nil},
		{"am I missing something", "the export asks for a licence key, am I missing something?", false, nil, []CueKind{Failure}},
		{"cool without a complaint", "Cool, thanks for the update!", false, nil, []CueKind{Sarcasm}},
		{"how fast it was fixed", "the engineer fixed the router in 20 mins, brilliant service", false, nil, []CueKind{Waiting, Sarcasm}},
		{"opening hours", "is the store on King Street open 24 hours?", false, nil, []CueKind{Waiting}},
		{"letting them know", "the app deal didn't apply but the cashier sorted it, just letting you know", false, nil, nil},
		{"praise of a person", "The engineer was great, fixed the update and explained everything", false, nil, []CueKind{Sarcasm}},
		{"travel plans are no churn", "I'm leaving for the airport now, will the driver wait?", false, nil, []CueKind{ChurnThreat}},
		{"asking about an outage", "is there an outage in Leeds? the site won't load for me", false, nil, []CueKind{Urgency}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Assess(tt.text)
			if a.Frustrated != tt.frustrated {
				t.Errorf("Assess(%q).Frustrated = %v (score %.3f, cues %v), want %v", tt.text, a.Frustrated, a.Score, kinds(a), tt.frustrated)
			}
			got := kinds(a)
			for _, k := range tt.want {
				if !slices.Contains(got, k) {
					t.Errorf("Assess(%q) cues = %v, want %s among them", tt.text, got, k)
				}
			}
			for _, k := range tt.not {
				if slices.Contains(got, k) {
					t.Errorf("Assess(%q) cues = %v, want no %s", tt.text, got, k)
				}
			}
		})
	}
}

func TestIntensifierRaisesScore(t *testing.T) {
	plain, strong := Assess("I am frustrated"), Assess("I am extremely frustrated")
	if strong.Score <= plain.Score {
		t.Errorf("intensified score %.3f <= plain %.3f", strong.Score, plain.Score)
	}
}

func TestNegationCancelsTheCue(t *testing.T) {
	if a := Assess("I'm not angry at all"); a.Has(NegativeEmotion) {
		t.Errorf("negated anger reported as a cue: %+v", a.Cues)
	}
	if a := Assess("I'm angry at all of this"); !a.Has(NegativeEmotion) {
		t.Errorf("plain anger missed: %+v", a.Cues)
	}
}

func TestEvidenceIsTheInputSpan(t *testing.T) {
	text := "Día 3: STILL waiting!!! You promised a call back 😡 — this is ridiculous. Cancel my account."
	a := Assess(text)
	if len(a.Cues) < 4 {
		t.Fatalf("want several cues, got %+v", a.Cues)
	}
	for i, c := range a.Cues {
		if text[c.Start:c.End] != c.Evidence {
			t.Errorf("cue %d: text[%d:%d] = %q, Evidence %q", i, c.Start, c.End, text[c.Start:c.End], c.Evidence)
		}
		if i > 0 && c.Start < a.Cues[i-1].Start {
			t.Errorf("cues out of order at %d", i)
		}
		if c.Weight <= 0 {
			t.Errorf("cue %+v has weight %v; reported cues must push toward frustrated", c, c.Weight)
		}
	}
}

func TestThresholdIsTheCoachs(t *testing.T) {
	text := "the sync failed again"
	a := Default().Assess(text)
	strict := Default().WithThreshold(0.999).Assess(text)
	if a.Score != strict.Score {
		t.Fatalf("threshold changed the score")
	}
	if strict.Frustrated {
		t.Errorf("score %.3f counted frustrated at threshold 0.999", strict.Score)
	}
}

// readLabelled reads a "label<TAB>text" file from testdata.
func readLabelled(t testing.TB, path string) (texts []string, labels []bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		l, text, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s: bad line %q", path, line)
		}
		texts = append(texts, text)
		labels = append(labels, l == "1")
	}
	return texts, labels
}

// A question is not calm in itself: complaints are asked as questions too, and
// the way a plain request opens ("how do I", "can I change") only tips the
// balance a little (requestKind).
func TestQuestionsAreJudgedByWhatTheyAsk(t *testing.T) {
	for _, text := range []string{
		"When is someone going to call me back? I've been waiting since Monday and nobody has replied.",
		"How do I cancel this useless subscription? Honestly fed up.",
		"Can I get my money back for the broken headphones or not??? This is ridiculous.",
		"Is there a way to reach a real person? The chat bot keeps looping and I'm losing my mind.",
	} {
		if a := Assess(text); !a.Frustrated {
			t.Errorf("Assess(%q) = %.3f, not frustrated; a complaint asked as a question", text, a.Score)
		}
	}
	for _, text := range []string{
		"How do I add a second user to our workspace?",
		"Can I change the billing date to the 1st?",
		"Is there a way to export the report as PDF?",
		"When does the new pricing start?",
	} {
		a := Assess(text)
		if a.Frustrated || len(a.Cues) > 0 {
			t.Errorf("Assess(%q) = %.3f, cues %v; want calm with no cue", text, a.Score, a.Cues)
		}
	}
}

// The words a support message is about ("flight", "order", "app",
// "account") are in complaints and in calm questions alike, so they must not
// lean either way. GoEmotions comments seldom name them and the support
// examples are half complaints, so until the support domain had its own
// intercept (see cmd/train) these words learned the domain's base rate as
// frustration, and each of these questions scored 0.30 to 0.45. They are
// asserted clearly calm, below 0.3, not merely under the threshold.
func TestTopicWordsAreNotComplaints(t *testing.T) {
	for _, text := range []string{
		"How do I change my flight to Friday?",
		"Where do I find my order number in the app?",
		"Can I use the same account on my tablet and my phone?",
		"I changed my delivery address in the app, is that enough?",
	} {
		if a := Assess(text); a.Score >= 0.3 || len(a.Cues) > 0 {
			t.Errorf("Assess(%q) = %.3f, cues %v; want below 0.3 with no cue", text, a.Score, a.Cues)
		}
	}
}

// A supposition asks about a policy; the same words without it report a
// loss. The failure after "what happens if" or "in case" in the same clause,
// or anywhere in a yes/no question with an "if" in it, counts as negated, so
// it neither raises the score nor shows as a cue.
func TestHypotheticalsAreQuestions(t *testing.T) {
	for _, tt := range []struct{ supposed, reported string }{
		{"What happens if my package is lost?", "My package is lost, what happens now?"},
		{"What if the app crashes during the update?", "The app crashes during the update, every time."},
		{"In case my order arrives damaged, who do I contact?", "My order arrived damaged, who do I contact?"},
		// A yes/no question with an "if" in it asks about a policy; "why" asks
		// about a failure that happened.
		{"Is my order cancelled if I miss the delivery?", "Why was my order cancelled if I paid already?"},
		{"Can I claim if the parcel arrives damaged?", "The parcel arrived damaged, can I claim?"},
	} {
		if a := Assess(tt.supposed); a.Frustrated || a.Has(Failure) {
			t.Errorf("Assess(%q) = %.3f, cues %v; a supposed failure is a question", tt.supposed, a.Score, kinds(a))
		}
		if a := Assess(tt.reported); !a.Has(Failure) {
			t.Errorf("Assess(%q) = %.3f, cues %v; want the reported failure", tt.reported, a.Score, kinds(a))
		}
	}
}

// A customer's own action is not a failure done to them: "I cancelled my
// order" owns it, "you cancelled my order" reports it.
func TestOwnActionIsNotAFailure(t *testing.T) {
	for _, tt := range []struct{ own, done string }{
		{"I cancelled my order by mistake, can I undo that?", "You cancelled my order by mistake and now it's sold out"},
		{"I accidentally cancelled my flight, can I rebook it?", "The airline cancelled my flight and nobody told me"},
	} {
		if a := Assess(tt.own); a.Has(Failure) {
			t.Errorf("Assess(%q) = %.3f, cues %v; the customer's own action is no failure", tt.own, a.Score, kinds(a))
		}
		// Reported calmly, the failure is a cue but no verdict (issue 15).
		if a := Assess(tt.done); !a.Has(Failure) {
			t.Errorf("Assess(%q) = %.3f, cues %v; want the failure as a cue", tt.done, a.Score, kinds(a))
		}
	}
}

// "Again" and "right now" after a request opener in the same clause are part
// of the request: a repeat asked for, a question about the present. After a
// complaint, or in a clause of their own, they keep their cue.
func TestRequestsSoftenAgainAndRightNow(t *testing.T) {
	for _, tt := range []struct {
		asked, reported string
		kind            CueKind
	}{
		{"Can you send the invoice again? I can't find it", "The invoice is wrong again", RepeatedContact},
		{"How do I log in again after changing my phone?", "It logged me out again, how do I stop that?", RepeatedContact},
		{"Do you have any tables free right now?", "I need this fixed right now", Urgency},
	} {
		if a := Assess(tt.asked); a.Frustrated || a.Has(tt.kind) {
			t.Errorf("Assess(%q) = %.3f, cues %v; a request, want calm with no %s", tt.asked, a.Score, kinds(a), tt.kind)
		}
		if a := Assess(tt.reported); !a.Has(tt.kind) {
			t.Errorf("Assess(%q) = %.3f, cues %v; want %s", tt.reported, a.Score, kinds(a), tt.kind)
		}
	}
}

// Personal stakes (family, travel, health, pay) weigh on a complaint, but
// alone they are a request's topic: no urgency cue for "can I add my husband".
// Where a longer phrase takes in the stake's words, one cue covers them.
func TestImpactNeedsAComplaint(t *testing.T) {
	for _, text := range []string{
		"Can I add my husband as a second user on the plan?",
		"Do you have a discount for my kids' school?",
		"Is the payroll export on the basic plan?",
		"How much is an extra bag on my flight to Lisbon?",
	} {
		if a := Assess(text); a.Has(Urgency) {
			t.Errorf("Assess(%q) = %.3f, cues %v; a stake with no complaint is no cue", text, a.Score, a.Cues)
		}
	}
	for _, text := range []string{
		"my daughter's laptop died two days after your repair, this is unacceptable",
		"the payroll run failed again and nobody can tell me why",
	} {
		if a := Assess(text); !a.Has(Urgency) || !a.Frustrated {
			t.Errorf("Assess(%q) = %.3f, cues %v; want frustrated with the stake as an urgency cue", text, a.Score, a.Cues)
		}
	}
	a := Assess("my flight cancelled with no warning")
	if !a.Has(Failure) {
		t.Fatalf("cues %v; want the cancellation as a failure cue", a.Cues)
	}
	for i := 1; i < len(a.Cues); i++ {
		if a.Cues[i].Start < a.Cues[i-1].End {
			t.Errorf("cues %v overlap", a.Cues)
		}
	}
}

// A contraction typed without its apostrophe reads as the contraction: the
// tokenizer drops "'s" ("what's" → "what"), and "whats" must meet it there.
func TestContractionsWithOrWithoutApostrophe(t *testing.T) {
	for _, pair := range [][2]string{
		{"what's the point of paying for premium", "whats the point of paying for premium"},
		{"that's the third time this week", "thats the third time this week"},
	} {
		a, b := Assess(pair[0]), Assess(pair[1])
		if a.Score != b.Score || len(a.Cues) == 0 || len(a.Cues) != len(b.Cues) || a.Cues[0].Kind != b.Cues[0].Kind {
			t.Errorf("%q → %.3f %v; %q → %.3f %v; want the same reading, with a cue", pair[0], a.Score, a.Cues, pair[1], b.Score, b.Cues)
		}
	}
}

// A hashtag is read as the word after the "#": a complaint hashtag is a cue of
// its own, with the hashtag's word as evidence.
func TestComplaintHashtags(t *testing.T) {
	for _, tc := range []struct{ text, tag string }{
		{"@SkyJet booked with you again #worstairline", "worstairline"},
		{"3 hours on the tarmac #neveragain", "neveragain"},
		{"my order is not here #stillwaiting", "stillwaiting"},
	} {
		a := Assess(tc.text)
		found := false
		for _, c := range a.Cues {
			found = found || c.Evidence == tc.tag
		}
		if !a.Frustrated || !found {
			t.Errorf("Assess(%q) = %.3f %v; want frustrated, with a cue on %q", tc.text, a.Score, a.Cues, tc.tag)
		}
	}
	if a := Assess("@SkyJet thx for nothing"); !a.Has(Sarcasm) {
		t.Errorf("\"thx for nothing\" is not sarcasm: %v", a.Cues)
	}
	if a := Assess("@SkyJet best crew ever, thank you #happy"); a.Frustrated {
		t.Errorf("a happy hashtag read as frustrated: %.3f %v", a.Score, a.Cues)
	}
}

// TestHeldOutSupportMessages checks the model on support-style messages that
// cmd/train never sees (chat-style and tweet-style): it must rank frustrated
// above calm and decide well at the default threshold.
func TestHeldOutSupportMessages(t *testing.T) {
	for _, c := range []struct {
		file                   string
		auc, precision, recall float64
	}{
		// The consumer sets label a plain complaint ("pizza arrived cold")
		// frustrated; the coach ranks those high but, since issue 15, flags
		// only a message with an emotion cue as evidence, at a threshold set
		// on real Slack traffic: their recall at the verdict is low by design,
		// and the ranking (AUC) and precision are what must hold.
		{"testdata/messages.tsv", 0.95, 0.95, 0.5},
		{"testdata/tweets.tsv", 0.95, 0.95, 0.15},
		{"testdata/probes.tsv", 0.95, 0.95, 0.15},
		// Slack-style B2B messages (issue 15's examples and their twins):
		// each is a regression test, so every one must be decided right.
		{"testdata/slack_b2b.tsv", 0.95, 1, 1},
	} {
		t.Run(c.file, func(t *testing.T) { checkHeldOut(t, c.file, c.auc, c.precision, c.recall) })
	}
}

// Most of what a customer writes in a thread is a plain reply: an order
// number, a device, "yes please". A reply says nothing either way and scores
// near the model's prior (0.435), just under the threshold, so a few may
// tip over it; none may read as clearly frustrated, or the bot would nudge
// on every thread. (DefaultThreshold's comment quotes these 20.)
func TestPlainThreadRepliesStayCalm(t *testing.T) {
	replies := []string{
		"Chrome on a Mac", "It's the blue one", "yes please", "Order 58812",
		"the email is on the account", "iPhone 14, latest iOS", "around 3pm yesterday",
		"no, just the one", "It's a business account", "I'm in Manchester", "ok will do",
		"that's the right address", "version 4.1 I think", "sure, go ahead", "the second one",
		"we have 12 users", "no rush", "Friday works", "it was a gift", "same card as before",
	}
	flagged := 0
	for _, r := range replies {
		a := Assess(r)
		if a.Frustrated {
			flagged++
			t.Logf("flagged %.3f: %s", a.Score, r)
		}
		if a.Score >= 0.55 || len(a.Cues) > 0 {
			t.Errorf("Assess(%q) = %.3f, cues %v; a plain reply, want below 0.55 with no cue", r, a.Score, kinds(a))
		}
	}
	if flagged > 2 {
		t.Errorf("%d of %d plain replies read as frustrated, want at most 2", flagged, len(replies))
	}
}

// checkHeldOut scores the labelled file and wants at least the given ROC AUC,
// and precision and recall at the default threshold.
func checkHeldOut(t *testing.T, file string, minAUC, minPrecision, minRecall float64) {
	texts, labels := readLabelled(t, file)
	type scored struct {
		s float64
		l bool
	}
	var all []scored
	var tp, fp, fn, tn int
	for i, text := range texts {
		a := Assess(text)
		all = append(all, scored{a.Score, labels[i]})
		switch {
		case a.Frustrated && labels[i]:
			tp++
		case a.Frustrated:
			fp++
			t.Logf("false alarm %.3f: %s", a.Score, text)
		case labels[i]:
			fn++
			t.Logf("missed %.3f: %s", a.Score, text)
		default:
			tn++
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].s < all[j].s })
	var pos, neg, rankSum float64
	for i, x := range all {
		if x.l {
			pos++
			rankSum += float64(i + 1)
		} else {
			neg++
		}
	}
	auc := (rankSum - pos*(pos+1)/2) / (pos * neg)
	precision := float64(tp) / float64(tp+fp)
	recall := float64(tp) / float64(tp+fn)
	t.Logf("held-out: AUC %.3f precision %.3f recall %.3f (tp %d fp %d fn %d tn %d)", auc, precision, recall, tp, fp, fn, tn)
	if auc < minAUC {
		t.Errorf("AUC %.3f < %.2f", auc, minAUC)
	}
	if precision < minPrecision || recall < minRecall {
		t.Errorf("at the default threshold precision %.3f recall %.3f; want >= %.2f and >= %.2f", precision, recall, minPrecision, minRecall)
	}
}

func TestHugeAndBrokenInput(t *testing.T) {
	huge := strings.Repeat("STILL not working!!! I've asked 3 times. ", 1000)
	a := Assess(huge)
	if !a.Frustrated || len(a.Cues) != MaxCues {
		t.Errorf("huge message: frustrated %v, %d cues; want true and %d", a.Frustrated, len(a.Cues), MaxCues)
	}
	// The cues kept are the first ones by position, in order, as in a short message.
	short := Assess(huge[:len("STILL not working!!! I've asked 3 times. ")])
	for i, c := range a.Cues {
		if i > 0 && c.Start < a.Cues[i-1].Start {
			t.Fatalf("huge message: cue %d at %d comes after one at %d", i, c.Start, a.Cues[i-1].Start)
		}
		if i < len(short.Cues) && c != short.Cues[i] {
			t.Errorf("huge message: cue %d is %+v, want %+v as in the first sentence alone", i, c, short.Cues[i])
		}
	}
	bad := "still \xff\xfe not working \xc3"
	a = Assess(bad)
	for _, c := range a.Cues {
		if bad[c.Start:c.End] != c.Evidence {
			t.Errorf("evidence mismatch on invalid UTF-8: %+v", c)
		}
	}
	if a := Assess(""); a.Score < 0 || a.Score > 1 || a.Frustrated || len(a.Cues) != 0 {
		t.Errorf("empty message: %+v", a)
	}
}

func FuzzAssess(f *testing.F) {
	texts, _ := readLabelled(f, "testdata/messages.tsv")
	for _, s := range texts[:20] {
		f.Add(s)
	}
	f.Add("f**k :rage: 😡 don't!!! ?!")
	f.Add("\xff\xfe'’s 3rd")
	f.Fuzz(func(t *testing.T, text string) {
		a := Assess(text)
		if !(a.Score >= 0 && a.Score <= 1) {
			t.Fatalf("score %v out of [0,1]", a.Score)
		}
		if len(a.Cues) > MaxCues {
			t.Fatalf("%d cues > MaxCues", len(a.Cues))
		}
		for _, c := range a.Cues {
			if c.Start < 0 || c.End > len(text) || c.Start >= c.End || text[c.Start:c.End] != c.Evidence {
				t.Fatalf("bad evidence %+v for %q", c, text)
			}
			if !ValidCueKind(c.Kind) {
				t.Fatalf("unknown kind %q", c.Kind)
			}
		}
		// No cue, no nudge: a frustrated message shows a strong cue of an
		// emotion (unless more cues than MaxCues hid it).
		if a.Frustrated && len(a.Cues) < MaxCues && !slices.ContainsFunc(a.Cues, func(c Cue) bool { return evidenceKinds[c.Kind] && !c.Weak }) {
			t.Fatalf("frustrated with no strong emotion cue: %+v", a.Cues)
		}
		s := Default().Suggest(a, nil)
		if !utf8.ValidString(s.Opening) {
			t.Fatalf("opening line is not valid UTF-8: %q", s.Opening)
		}
	})
}

// The tokenizer reads most words 8 bytes at a time; the byte-by-byte path it
// falls back to is the reference. Both must give the same tokens.
func FuzzTokenizerPaths(f *testing.F) {
	for _, s := range []string{
		"Hello WORLD, it's 3rd time!!", "abcdefgh abcdefghi a ab abcdefg", "don’t café CAFÉ naïve",
		"x'y 'q' a'", "12x 48h 3rd", "ÀÉÎ éé\xff\xfeabc", "", "a", "Zz09@[`{/:",
		"Unacceptable FRUSTRATED frustrated customer's abcdefghijklmnop abcdefghijklmnopq",
		"abcdefgh12345678x Abcdefgh9 ABCDEFGHI abcdefghé responsibility,",
		"don't DON'T it's IT'S I'm x's a'b'c abcdefg'hi abc'defgh it'sé can't!",
		"see https://x.co/a and www.acme.com or http:foo HTTP://X.COM wwwx.y www. https: end.",
		"Why? Now! What?! no!!! ok?? fine. a,b. c:d :rage: done!",
	} {
		f.Add(s)
	}
	lx := Default().model.lx
	f.Fuzz(func(t *testing.T, text string) {
		var fast, slow scratch
		slow.slow = true
		fast.tokenizeWith(text, lx)
		slow.tokenizeWith(text, lx)
		if !slices.Equal(fast.tokens, slow.tokens) {
			t.Fatalf("%q: tokens differ\nfast %+v\nslow %+v", text, fast.tokens, slow.tokens)
		}
		for i := range fast.tokens {
			if fw, sw := strings.Clone(fast.word(text, i)), slow.word(text, i); fw != sw {
				t.Fatalf("%q: token %d: normalised words differ: %q vs %q", text, i, fw, sw)
			}
			if id := lx.voc.find(fast.word(text, i)).id; id != fast.tokens[i].id {
				t.Fatalf("%q: token %d (%q) has ID %d, its word %d", text, i, fast.word(text, i), fast.tokens[i].id, id)
			}
		}
		if fast.excl != slow.excl || fast.quest != slow.quest || !slices.Equal(fast.extra, slow.extra) {
			t.Fatalf("%q: punctuation differs: fast !%d ?%d %v, slow !%d ?%d %v", text, fast.excl, fast.quest, fast.extra, slow.excl, slow.quest, slow.extra)
		}
		if fast.wordSum != slow.wordSum {
			t.Fatalf("%q: word weights sum to %v fast, %v slow", text, fast.wordSum, slow.wordSum)
		}
		// anyCaps lets scan skip the shouting pass; it must say exactly
		// whether some token is in capitals, on either path.
		caps := slices.ContainsFunc(fast.tokens, func(tk token) bool { return tk.caps })
		if fast.anyCaps != caps || slow.anyCaps != caps {
			t.Fatalf("%q: anyCaps fast %v slow %v, want %v", text, fast.anyCaps, slow.anyCaps, caps)
		}
	})
}

func TestClassify8(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			x := uint64(0x2020202020202020) &^ (0xff << (8 * pos)) // spaces around
			x |= uint64(c) << (8 * pos)
			letter, alnum := classify8(x)
			upper := letter &^ (x << 2) // as the tokenizer tells case
			bit := uint64(0x80) << (8 * pos)
			b := byte(c)
			if want := b >= 'A' && b <= 'Z'; (upper&bit != 0) != want {
				t.Errorf("byte %#x at %d: upper %v", c, pos, !want)
			}
			if want := b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z'; (letter&bit != 0) != want {
				t.Errorf("byte %#x at %d: letter %v", c, pos, !want)
			}
			if want := isWordByte(b); (alnum&bit != 0) != want {
				t.Errorf("byte %#x at %d: alnum %v", c, pos, !want)
			}
			if (upper|letter|alnum)&^bit != 0 {
				t.Errorf("byte %#x at %d leaks into other bytes", c, pos)
			}
		}
	}
}

func TestExpSmallMatchesMathExp(t *testing.T) {
	worst := 0.0
	for x := -36.0; x <= 36; x += 0.000731 {
		got, want := expSmall(x), math.Exp(x)
		if rel := math.Abs(got-want) / want; rel > worst {
			worst = rel
		}
	}
	if worst > 1e-13 {
		t.Errorf("expSmall: worst relative error %g > 1e-13", worst)
	}
	if sigmoid(0) != 0.5 || sigmoid(40) != 1 || sigmoid(-40) != 0 {
		t.Errorf("sigmoid(0, 40, -40) = %v, %v, %v", sigmoid(0), sigmoid(40), sigmoid(-40))
	}
}

// Markup is not the customer's tone: Slack mentions and links, code, handles,
// URLs and e-mail domains must not read as shouting, failure or swearing.
func TestMarkupIsNotTone(t *testing.T) {
	for _, tc := range []struct {
		text   string
		absent []CueKind
	}{
		{"<@U024BE7LH> can you help me with my order?", []CueKind{Shouting}},
		{"<@U024BE7LH|dana> and <#C0123ABCD|support-acme> <!here> <!subteam^S012AB3CD|@oncall>", []CueKind{Shouting}},
		{"see <https://status.example.com/INCIDENT/ABCD|STATUS PAGE> for updates", []CueKind{Shouting}},
		{"the log says `ERROR CONNECTION REFUSED FATAL`", []CueKind{Shouting, Failure}},
		{"here it is:\n```\nFATAL ERROR: BROKEN PIPE\nTimeout, crashed\n```\nthanks", []CueKind{Shouting, Failure}},
		{"@ATT @UPS my order https://t.co/4XYZ9QWK arrived", []CueKind{Shouting}},
		{"mail me at bob@ACME.COM or www.EXAMPLE.COM/HELP", []CueKind{Shouting}},
		{"I need this fixed *now* please, *ASAP* is fine", []CueKind{Profanity}},
		{"[NAME] said [COMPANY_NAME] would call me back", []CueKind{Shouting}},
	} {
		a := Assess(tc.text)
		for _, k := range tc.absent {
			if a.Has(k) {
				t.Errorf("%q: markup read as %s: %+v", tc.text, k, a.Cues)
			}
		}
	}
	// HTML entities, as scraped tweets have them, are not words.
	if got := normaliseWords("delayed &amp; cancelled &lt;3 &#39;"); !slices.Equal(got, []string{"delayed", "cancelled", "3"}) {
		t.Errorf("entities read as words: %q", got)
	}
	// Censored swearing is still swearing, and text around markup still counts.
	for _, text := range []string{"what the f*** is going on", "this is sh*t", "f**k this", "<@U024BE7LH> this is STILL BROKEN!!!"} {
		if a := Assess(text); !a.Frustrated {
			t.Errorf("%q: not frustrated around markup (%.2f, %+v)", text, a.Score, a.Cues)
		}
	}
	if !Assess("f**k this").Has(Profanity) || !Assess("<@U024BE7LH> THIS IS STILL BROKEN").Has(Shouting) {
		t.Error("swearing or shouting next to markup was lost")
	}
	// Unclosed markup is ordinary text: nothing is skipped.
	for _, text := range []string{"<3 but STILL BROKEN AGAIN", "it's `STILL BROKEN AGAIN\nand more", "```STILL BROKEN AGAIN", "[STILL BROKEN AGAIN]"} {
		if a := Assess(text); !a.Has(Shouting) {
			t.Errorf("%q: unclosed markup swallowed the text: %+v", text, a.Cues)
		}
	}
}

// A long message is scored on what it says, not on its length: summed over
// hundreds of words, the small word weights would push any message to 0 or 1
// (a polite question pasted 60 times used to score 1.0 with no cue at all).
func TestLongMessagesKeepTheirTone(t *testing.T) {
	calm := []string{
		strings.Repeat("Could you tell me how to export my invoices to CSV? We use them for our monthly accounting report. ", 60),
		"Hi team, hope you are well. We are planning to roll out the new reporting module to our finance department next quarter " +
			"and I wanted to check a few things before we start. First, can the monthly export include the cost centre field, or do " +
			"we need a custom template for that? Second, our auditors asked whether the audit log keeps entries for seven years; I " +
			"could not find this in the documentation. Third, we would like to give read-only access to two external accountants - " +
			"is there a seat type for that, and how is it billed? Finally, is there a sandbox where we can test the SSO configuration " +
			"before switching it on for everyone? No rush on any of this, we are still in the planning phase. Thanks for your help!",
	}
	angry := []string{
		strings.Repeat("Still not working, this is the third time I ask. ", 60),
		"Hi, I have been trying to get this sorted for two weeks now and honestly I am running out of patience. The nightly " +
			"export has failed every single night since the 3rd, your status page says everything is fine, and every time I open " +
			"a ticket someone asks me for the same logs I already sent. I was told on Monday that an engineer would call me back " +
			"within 24 hours and nobody did. We are a small business and without the export our accountant cannot close the " +
			"month, so this is costing us real money. If it is not resolved this week we will move to another provider.",
	}
	for _, text := range calm {
		if a := Assess(text); a.Frustrated {
			t.Errorf("long calm message scored %.3f (%d cues): %.60q…", a.Score, len(a.Cues), text)
		}
	}
	for _, text := range angry {
		if a := Assess(text); !a.Frustrated {
			t.Errorf("long complaint scored %.3f: %.60q…", a.Score, text)
		}
	}
}

func TestLoad8AndCount8(t *testing.T) {
	text := "abcdefghijklmnop"
	for n := 0; n <= len(text); n++ {
		for i := 0; i < n; i++ {
			var b [8]byte
			copy(b[:], text[i:n])
			want := uint64(0)
			for k := 7; k >= 0; k-- {
				want = want<<8 | uint64(b[k])
			}
			if got := load8(text[:n], i); got != want {
				t.Errorf("load8(%q, %d) = %#x, want %#x", text[:n], i, got, want)
			}
		}
	}
	for mask := 0; mask < 256; mask++ {
		var x uint64
		for k := 0; k < 8; k++ {
			if mask&(1<<k) != 0 {
				x |= 0x80 << (8 * k)
			}
		}
		if got, want := count8(x), bits.OnesCount(uint(mask)); got != want {
			t.Errorf("count8(%#x) = %d, want %d", x, got, want)
		}
	}
}

func TestFirstBytes(t *testing.T) {
	for n := 0; n <= 8; n++ {
		want := ^uint64(0)
		if n < 8 {
			want = uint64(1)<<(8*n) - 1
		}
		// Any stop bytes above the lowest one must not matter.
		for above := uint64(0); above < 4; above++ {
			stop := uint64(0)
			if n < 8 {
				stop = 0x80 << (8 * n)
				for k := n + 1; k < 8; k++ {
					if above>>(k%2)&1 != 0 {
						stop |= 0x80 << (8 * k)
					}
				}
			}
			if got := firstBytes(stop); got != want {
				t.Errorf("firstBytes(%#x) = %#x, want %#x", stop, got, want)
			}
		}
	}
}

// Capitalised identifiers, error codes and log levels are not shouting; a
// capitalised run in prose is, even after a full stop or a dash.
func TestIdentifiersAreNotShouting(t *testing.T) {
	for _, text := range []string{
		"HTTP_500 on the orders endpoint", "CONTENTFUL_SPACE_ID is unset", "region US-EAST-1 only",
		"got ERR404 back", "2024-05-01T10:00:01Z FATAL db: connection refused", "see APP.CONFIG for the key",
	} {
		if a := Assess(text); a.Has(Shouting) {
			t.Errorf("Assess(%q) cues %v; an identifier is not shouting", text, a.Cues)
		}
	}
	for _, text := range []string{"It failed. WHY IS IT STILL DOWN", "and now - FIX IT"} {
		if a := Assess(text); !a.Has(Shouting) {
			t.Errorf("Assess(%q) cues %v; want shouting", text, a.Cues)
		}
	}
}

// A length of time after a rate or an amount is how often or how much, not a
// wait (issue 15): "$4,000 a month" and "every 10 minutes" are no evidence to
// quote. The same lengths on their own still are.
func TestRatesAndPricesAreNotWaits(t *testing.T) {
	waits := func(text string) []string {
		var ev []string
		for _, c := range Assess(text).Cues {
			if c.Kind == Waiting {
				ev = append(ev, c.Evidence)
			}
		}
		return ev
	}
	for _, text := range []string{
		"We're on $4,000 a month, can we move to annual billing?",
		"it logs us out every 10 minutes",
		"the sync runs twice a day",
		"we pay 50 per month",
		"a €30 a month plan",
		"it polls each 5 minutes",
	} {
		if ev := waits(text); len(ev) > 0 {
			t.Errorf("%q: waiting cues %q, want none", text, ev)
		}
	}
	for text, want := range map[string]string{
		"we have waited 3 days":                          "3 days",
		"for a month now nobody has looked at this":      "a month",
		"we were on hold 10 minutes, every agent is out": "10 minutes",
	} {
		if ev := waits(text); !slices.Contains(ev, want) {
			t.Errorf("%q: waiting cues %q, want %q among them", text, ev, want)
		}
	}
}

// A negator cancels reassurance as it cancels a complaint: "isn't resolved"
// is no calm word, while gratitude put with one ("can't thank you enough")
// still is.
func TestNegatedCalmIsNoReassurance(t *testing.T) {
	for _, tt := range []struct{ negated, plain string }{
		{"the outage isn't resolved yet", "the outage is resolved"},
		{"the ticket was never resolved", "the ticket was resolved"},
		{"it's not sorted", "it's sorted"},
	} {
		neg, plain := Assess(tt.negated), Assess(tt.plain)
		if neg.Score <= plain.Score+0.1 {
			t.Errorf("%q scores %.3f, %q %.3f: the negated reassurance should score clearly higher", tt.negated, neg.Score, tt.plain, plain.Score)
		}
	}
	if a, b := Assess("I can't thank you enough, that fixed it"), Assess("that fixed it"); a.Score >= b.Score {
		t.Errorf("gratitude with a negator scores %.3f, above the same without it (%.3f)", a.Score, b.Score)
	}
}

// The coaching answers a strong cue before a weak one: the 2 hours a job ran
// are context, and the tip must not apologise for a wait.
func TestPrimaryPrefersAStrongCue(t *testing.T) {
	a := Assess("the job ran 2 hours and then failed, so annoying")
	var weak []string
	for _, c := range a.Cues {
		if c.Weak {
			weak = append(weak, c.Evidence)
		}
	}
	if !slices.Equal(weak, []string{"2 hours"}) {
		t.Fatalf("weak cues %q, want [2 hours]", weak)
	}
	if p, _ := a.Primary(); p.Weak || p.Kind == Waiting {
		t.Errorf("primary cue %+v, want a strong one", p)
	}
	if s := Default().Suggest(a, nil); strings.Contains(s.Opening, "waiting") {
		t.Errorf("opening %q apologises for a wait", s.Opening)
	}
	// With only weak cues, the weak one is still the one to name.
	if p, ok := Assess("it ran 2 hours").Primary(); !ok || p.Evidence != "2 hours" {
		t.Errorf("only a weak cue: primary %+v, %v", p, ok)
	}
}

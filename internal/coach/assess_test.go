package coach

import (
	"bufio"
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
		if a := Assess(text); a.Score >= DefaultThreshold-0.2 || len(a.Cues) > 0 {
			t.Errorf("Assess(%q) = %.3f, cues %v; want below %.2f with no cue", text, a.Score, a.Cues, DefaultThreshold-0.2)
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
			found = found || c.Evidence == tc.tag && c.Kind != Tone
		}
		without := Assess(strings.TrimSuffix(tc.text, "#"+tc.tag))
		if !found || a.Score <= without.Score+0.1 {
			t.Errorf("Assess(%q) = %.3f %v (%.3f without the hashtag); want a cue on %q that raises the score", tc.text, a.Score, a.Cues, without.Score, tc.tag)
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
		// frustrated; the coach ranks those high, but its threshold was
		// chosen on real traffic of two rooms, one of them a help channel
		// where 2% of messages are frustrated: their recall at the verdict
		// is low, and the ranking (AUC) and precision are what must hold.
		// The recall floors sit a little under what session 17 reached
		// (0.80, 0.57, 0.54), so that the gain of weighing weak cues apart
		// and of the support examples' weight is kept.
		{"testdata/messages.tsv", 0.95, 0.95, 0.7},
		{"testdata/tweets.tsv", 0.95, 0.95, 0.45},
		{"testdata/probes.tsv", 0.95, 0.95, 0.45},
		// Slack-style B2B messages (issue 15's examples and their twins):
		// 1 of the 38 calm is decided wrong, none of the 28 frustrated (the
		// log lists them); the floors keep it from getting worse.
		{"testdata/slack_b2b.tsv", 0.95, 0.9, 0.95},
	} {
		t.Run(c.file, func(t *testing.T) { checkHeldOut(t, c.file, c.auc, c.precision, c.recall) })
	}
}

// Most of what a customer writes in a thread is a plain reply: an order
// number, a device, "yes please". A reply says nothing either way and scores
// near the model's prior for a support message, under the threshold, so a
// few may tip over it; none may read as clearly frustrated, or the bot would
// nudge on every thread.
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
		// (Their weights differ: a long message's words are scaled, and a
		// kind counts for its first three matches only.)
		if w := short.Cues; i < len(w) && (c.Kind != w[i].Kind || c.Evidence != w[i].Evidence || c.Start != w[i].Start || c.End != w[i].End) {
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
		// No evidence, no nudge: a frustrated message quotes something
		// that raised its score.
		if a.Frustrated && !slices.ContainsFunc(a.Cues, func(c Cue) bool { return c.Weight > 0 && c.Evidence != "" }) {
			t.Fatalf("frustrated with no evidence: %+v", a.Cues)
		}
		s := Default().Suggest(a, nil)
		if !utf8.ValidString(s.Opening) {
			t.Fatalf("opening line is not valid UTF-8: %q", s.Opening)
		}
	})
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
	// Censored swearing is still swearing, and text around markup still
	// counts: the mention changes nothing.
	for _, text := range []string{"what the f*** is going on", "this is sh*t", "f**k this", "this is STILL BROKEN!!!"} {
		a, b := Assess(text), Assess("<@U024BE7LH> "+text)
		if !a.Has(Profanity) && !a.Has(Shouting) || a.Score != b.Score || len(a.Cues) != len(b.Cues) {
			t.Errorf("%q: %.2f %+v; after a mention %.2f %+v", text, a.Score, a.Cues, b.Score, b.Cues)
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

// What a support room knows as upset (issue 22, item 3): a wait of hours
// or days, a second or third ask, a broken promise, "production is down"
// with a plea. The issue's own examples must nudge, each with evidence of
// that kind; the bare length of a time or "was told" alone stays weak.
func TestSupportRoomsKnowWhatUpsetIs(t *testing.T) {
	for _, c := range []struct {
		text string
		kind CueKind
	}{
		{"It's been 48 hours. My team has been manually re-entering orders the whole time.", Waiting},
		{"I was told this would be fixed by Friday. It's Monday.", BrokenPromise},
		{"Third follow-up on this. Is anyone actually looking at it?", RepeatedContact},
		{"can someone PLEASE look at this, production is down", Urgency},
		{"The invoice is wrong AGAIN. Every single month.", RepeatedContact},
		{"Hey, any update on the SSO issue? We've been blocked since Tuesday and my team can't log in.", Waiting},
	} {
		a := Assess(c.text)
		if !a.Frustrated || !slices.ContainsFunc(a.Cues, func(q Cue) bool { return q.Kind == c.kind }) {
			t.Errorf("Assess(%q) = %.3f, cues %v; want frustrated with a %s cue", c.text, a.Score, kinds(a), c.kind)
		}
	}
	for _, text := range []string{"The job took 48 hours to run.", "I was told to restart it first."} {
		a := Assess(text)
		if a.Frustrated || slices.ContainsFunc(a.Cues, func(q Cue) bool { return !q.Weak }) {
			t.Errorf("Assess(%q) = %.3f, cues %v; want calm, with weak cues at most", text, a.Score, kinds(a))
		}
	}
}

// Package coach is empathybot's domain: it reads a customer's message and says
// how frustrated it sounds and why, picks an empathy technique for the agent, and
// reviews the agent's reply for the pitfalls the support literature names.
//
// It is pure Go with no I/O: no Slack, no Redis, no clock. Everything it knows
// is embedded data next to the code:
//
//   - lexicon/*.txt: the cue phrases, one per line, with where each list comes from;
//   - model/weights.tsv: logistic-regression weights over those cues and words,
//     written by `go run ./cmd/train`;
//   - tips.txt: the tip catalogue, each tip traced to a technique in shared/EMPATHY.md.
//
// # Scoring
//
// [Coach.Assess] tokenises the message, matches the phrase lists (longest match
// first, with negation and intensifiers; gratitude and the openings of plain
// requests are matched too, and weigh towards calm, but are never reported),
// runs detectors for shouting, censored swearing, angry emoji and
// praise-amid-complaint sarcasm, and sums the learned weights of what it
// found, of the message's words and of its adjacent word pairs ("how dare",
// "can we") into a probability. A supposition ("what happens if", "in case")
// negates the cues after it in its clause, as a negator does the three words
// after it. The model's intercept is the support rooms' (see internal/learn),
// so 0.5 is even odds on a support message.
//
// The verdict is that probability against one threshold,
// [DefaultThreshold]. The evidence is in the [Cue] list: the lexicon's cues,
// and the spans of words that raised the score most outside them ([Tone]),
// each with the exact text and its byte offsets; a frustrated message always
// has some.
package coach

package support

import (
	"math"
	"math/rand/v2"
)

// Record is what the learner knows of one technique for one cue kind:
// nudged moments that de-escalated (Wins), and those that ended otherwise
// after the customer answered or fell silent (Losses).
type Record struct{ Wins, Losses int }

// ExploreFloor is the share of choices made uniformly at random, whatever
// the posteriors say: every technique keeps being tried, so the learner can
// change its mind, and every choice has a probability of at least
// ExploreFloor / len(techniques).
const ExploreFloor = 0.1

// probDraws is how many draws estimate the probability of a choice.
const probDraws = 400

// Choose picks the technique of a nudge among techniques (those that fit
// the cue kind) by Thompson sampling on de-escalation: one draw from each
// technique's Beta(1 + wins, 1 + losses) posterior, the highest wins; with
// probability ExploreFloor the pick is uniform instead. It returns the pick
// and the probability it had of being picked (estimated by repeating the
// draw), recorded with the moment so that the choices can be evaluated
// later (inverse propensity weighting).
func Choose(rng *rand.Rand, techniques []string, post map[string]Record) (pick string, prob float64) {
	switch len(techniques) {
	case 0:
		return "", 0
	case 1:
		return techniques[0], 1
	}
	pick = draw(rng, techniques, post)
	won := 0
	for i := 0; i < probDraws; i++ {
		if thompson(rng, techniques, post) == pick {
			won++
		}
	}
	k := float64(len(techniques))
	prob = ExploreFloor/k + (1-ExploreFloor)*float64(won)/probDraws
	return pick, prob
}

func draw(rng *rand.Rand, techniques []string, post map[string]Record) string {
	if rng.Float64() < ExploreFloor {
		return techniques[rng.IntN(len(techniques))]
	}
	return thompson(rng, techniques, post)
}

func thompson(rng *rand.Rand, techniques []string, post map[string]Record) string {
	best, bestX := techniques[0], -1.0
	for _, t := range techniques {
		r := post[t]
		if x := betaSample(rng, 1+float64(r.Wins), 1+float64(r.Losses)); x > bestX {
			best, bestX = t, x
		}
	}
	return best
}

// betaSample draws from Beta(a, b) as X/(X+Y) of two Gamma draws.
func betaSample(rng *rand.Rand, a, b float64) float64 {
	x, y := gammaSample(rng, a), gammaSample(rng, b)
	return x / (x + y)
}

// gammaSample draws from Gamma(a, 1), a ≥ 1 (Marsaglia and Tsang 2000).
func gammaSample(rng *rand.Rand, a float64) float64 {
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

package support

import (
	"math"
	"sort"
	"strings"
)

// ArmStats are one arm's settled moments.
type ArmStats struct {
	Deescalated, Unchanged, Escalated int // the customer answered after the reply
	Silent, NoReply                   int // counted apart: silence is not calm
	Reescalated                       int
}

// Answered is the moments the customer answered after an agent's reply:
// the denominator of the de-escalation rate.
func (a ArmStats) Answered() int { return a.Deescalated + a.Unchanged + a.Escalated }

// Rate is the de-escalation rate among answered moments (0 when none).
func (a ArmStats) Rate() float64 {
	if a.Answered() == 0 {
		return 0
	}
	return float64(a.Deescalated) / float64(a.Answered())
}

// Lift compares nudged moments with held-out ones, by assignment.
type Lift struct {
	Holdout       float64 // the configured fraction
	Nudged, Held  ArmStats
	Diff, Lo, Hi  float64 // the difference of the rates (nudged − held out) and its 95% interval
	Needed        int     // answered moments needed to see a MinDiff difference (80% power, 5% two-sided)
	Enough        bool    // both arms have answered moments and Needed is reached
	ByCue, ByTech map[string][2]ArmStats
	// ByAck splits answered moments by whether the agent's reply
	// acknowledged the feeling ("yes", "no"), each arm apart.
	ByAck map[string][2]ArmStats
}

// MinDiff is the difference in de-escalation rate the holdout is sized to see.
const MinDiff = 0.10

// minPerArm is the fewest answered moments per arm before a breakdown (by
// cue kind, by technique) is shown.
const minPerArm = 20

// LiftOf reads the outcome counts of a channel's stats (the oc: fields,
// counted by Tally) into a comparison of the arms. holdout is the
// configured fraction.
func LiftOf(st ChannelStats, holdout float64) Lift {
	l := Lift{Holdout: holdout, ByCue: map[string][2]ArmStats{}, ByTech: map[string][2]ArmStats{}, ByAck: map[string][2]ArmStats{}}
	for k, n := range st.Counts {
		parts := strings.Split(k, ":")
		if len(parts) < 3 || parts[0] != "oc" {
			continue
		}
		arm := 0
		switch parts[1] {
		case ArmNudge:
		case ArmHoldout:
			arm = 1
		default:
			continue
		}
		switch {
		case len(parts) == 3:
			if arm == 0 {
				addResult(&l.Nudged, parts[2], n)
			} else {
				addResult(&l.Held, parts[2], n)
			}
		case len(parts) == 5 && (parts[3] == "cue" || parts[3] == "tech" || parts[3] == "ack"):
			m := map[string]map[string][2]ArmStats{"cue": l.ByCue, "tech": l.ByTech, "ack": l.ByAck}[parts[3]]
			v := m[parts[4]]
			addResult(&v[arm], parts[2], n)
			m[parts[4]] = v
		}
	}
	p1, p2 := l.Nudged.Rate(), l.Held.Rate()
	n1, n2 := float64(l.Nudged.Answered()), float64(l.Held.Answered())
	l.Diff = p1 - p2
	if n1 > 0 && n2 > 0 {
		l.Lo, l.Hi = newcombe(l.Nudged.Deescalated, int(n1), l.Held.Deescalated, int(n2))
	}
	l.Needed = Needed(pooled(l), holdout)
	l.Enough = n1 > 0 && n2 > 0 && int(n1+n2) >= l.Needed
	return l
}

func addResult(a *ArmStats, result string, n int) {
	switch result {
	case ResultDeescalated:
		a.Deescalated += n
	case ResultUnchanged:
		a.Unchanged += n
	case ResultEscalated:
		a.Escalated += n
	case ResultSilent:
		a.Silent += n
	case ResultNoReply:
		a.NoReply += n
	case Reescalated:
		a.Reescalated += n
	}
}

// pooled is the de-escalation rate over both arms; 0.5 (the most
// demanding) until there are 100 answered moments to say otherwise.
func pooled(l Lift) float64 {
	n := l.Nudged.Answered() + l.Held.Answered()
	if n < 100 {
		return 0.5
	}
	return float64(l.Nudged.Deescalated+l.Held.Deescalated) / float64(n)
}

// Needed is how many answered moments, in all, a holdout of fraction h
// needs to see a MinDiff difference around a rate p with 80% power at a
// two-sided 5% level: N = (z.975 + z.8)² · p(1−p) · (1/h + 1/(1−h)) / d².
// 0 when there is no holdout.
func Needed(p, h float64) int {
	if h <= 0 || h >= 1 {
		return 0
	}
	p = math.Min(math.Max(p, 0.05), 0.95)
	z := 1.959964 + 0.841621
	return int(math.Ceil(z * z * p * (1 - p) * (1/h + 1/(1-h)) / (MinDiff * MinDiff)))
}

// wilson is the 95% Wilson score interval of x successes in n.
func wilson(x, n int) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	const z = 1.959964
	p, fn := float64(x)/float64(n), float64(n)
	den := 1 + z*z/fn
	mid := (p + z*z/(2*fn)) / den
	half := z * math.Sqrt(p*(1-p)/fn+z*z/(4*fn*fn)) / den
	return mid - half, mid + half
}

// newcombe is the 95% interval of the difference of two proportions
// (Newcombe 1998, method 10: from the two Wilson intervals), which behaves
// at small counts where the textbook interval does not.
func newcombe(x1, n1, x2, n2 int) (lo, hi float64) {
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	l1, u1 := wilson(x1, n1)
	l2, u2 := wilson(x2, n2)
	d := p1 - p2
	lo = d - math.Sqrt((p1-l1)*(p1-l1)+(u2-p2)*(u2-p2))
	hi = d + math.Sqrt((u1-p1)*(u1-p1)+(p2-l2)*(p2-l2))
	return lo, hi
}

// Breakdown lists the names (cue kinds or techniques) whose arms both have
// at least minPerArm answered moments, most answered first; with no
// holdout, those whose nudged arm has.
func Breakdown(m map[string][2]ArmStats, holdout bool) []string {
	var names []string
	for k, v := range m {
		if v[0].Answered() >= minPerArm && (!holdout || v[1].Answered() >= minPerArm) {
			names = append(names, k)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := m[names[i]], m[names[j]]
		if x, y := a[0].Answered()+a[1].Answered(), b[0].Answered()+b[1].Answered(); x != y {
			return x > y
		}
		return names[i] < names[j]
	})
	return names
}

package coach

import (
	"fmt"
	"time"
)

// ReminderText is the wording of response reminder n, firmer with each
// repeat; waited is how long the customer has waited.
func ReminderText(n int, waited time.Duration) string {
	w := HumanDuration(waited)
	switch {
	case n <= 1:
		return fmt.Sprintf(":hourglass: A frustrated customer has been waiting %s with no reply in this thread. A short, honest update now (what you are doing, and when you will be back) beats a perfect answer later.", w)
	case n == 2:
		return fmt.Sprintf(":hourglass_flowing_sand: Still no reply after %s, and this customer was already frustrated. Take ownership: tell them you have it and give a time for the next update.", w)
	default:
		return fmt.Sprintf(":rotating_light: Reminder %d: this frustrated customer has waited %s. If you cannot take it, hand it on now (`/empathy oncall`) so someone can.", n, w)
	}
}

// FollowupText is the check-in wording for a resolved thread.
func FollowupText(customerMention string) string {
	return fmt.Sprintf(":white_check_mark: Time to follow up: check that %s is happy with the outcome. A quick “is everything working now?” shows you care about the result, not only closing the ticket.", customerMention)
}

// HumanDuration writes d the way a person would ("45 s", "12 min", "3 h",
// "1 day", "2 days"), rounded down.
func HumanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	case d < 48*time.Hour:
		return "1 day"
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

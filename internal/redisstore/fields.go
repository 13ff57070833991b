package redisstore

import (
	"sort"
	"strings"
)

// threadFields names the fields of a thread's hash. The scripts read them
// by name (through luaFields: F.customer_ts), and so does parseThread;
// Redis keeps the short code, once in every thread.
var threadFields = map[string]string{
	"customer":          "c",  // the last customer to write
	"customer_at":       "ca", // when their message was received (Unix ms)
	"score":             "s",  // its score
	"frustrated":        "f",  // "1" when it was frustrated
	"cue":               "q",  // its primary cue kind
	"customer_ts":       "ct", // its Slack ts
	"customer_event":    "ce", // its dedupe ID
	"customer_decision": "cd", // what the record step decided for it (JSON)
	"waiting_since":     "ws", // the frustrated message the customer waits on (Unix ms)
	"waiting_customer":  "wc", // who waits on it
	"first_frustrated":  "ff", // the thread's first frustrated message (Unix ms)
	"first_reply":       "fr", // the first agent reply after it (Unix ms)
	"nudge_until":       "nu", // the nudge cooldown runs until (Unix ms)
	"nudges":            "n",  // nudges the thread raised
	"reminder":          "ri", // the pending response reminder, "gen:n"
	"reminders_done":    "rd", // "1": an agent marked the reminders done
	"agent_replied":     "ar", // "1": an agent replied after the last customer message
	"last_agent":        "la", // the last agent to reply
	"agent_ts":          "gt", // the Slack ts of that reply
	"agent_event":       "ae", // its dedupe ID
	"agent_decision":    "ad", // what the record step decided for it
	"claimed_by":        "cb", // who claimed the thread
	"resolved":          "r",  // "1" when resolved
	"resolved_at":       "ra", // when (Unix ms)
	"resolved_by":       "rb", // by whom
	"followup":          "fi", // the pending check-in, "gen:n"
	"ttl_set":           "ex", // when the thread's TTL was last set (Unix ms)
}

// luaFields is the Lua table F of threadFields, for the scripts.
var luaFields = func() string {
	names := make([]string, 0, len(threadFields))
	for n := range threadFields {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("local F = {")
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n + " = '" + threadFields[n] + "'")
	}
	b.WriteString("}\n")
	return b.String()
}()

// field returns the code of the thread field named n; an unknown name is a
// programming error.
func field(n string) string {
	c, ok := threadFields[n]
	if !ok {
		panic("redisstore: no thread field " + n)
	}
	return c
}

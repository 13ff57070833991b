package main

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"empathybot/internal/slackio/slackfake"
)

// FuzzEnvelope feeds arbitrary frames to the bot over the real Socket Mode
// connection (slack-go's decoding, then our routing): raw, and wrapped as the
// payload of each envelope type. After each one the bot must still handle a
// good message: it acked or dropped the bad one without crashing or wedging.
// go test -fuzz FuzzEnvelope -fuzztime 60s ./cmd/bot/
func FuzzEnvelope(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `[]`, `"x"`, `{"type":"message"}`,
		`{"type":"event_callback","event_id":"Ev1","event":{"type":"message","channel":"CSUPPORT","user":"UCUSTOMER","text":"STILL BROKEN!!!","ts":"1.1"}}`,
		`{"type":"event_callback","event":{"type":"reaction_added","user":"UAGENT","reaction":"white_check_mark","item":{"type":"message","channel":"CSUPPORT","ts":"1.1"}}}`,
		`{"type":"event_callback","event":{"type":"app_home_opened","user":"UAGENT","tab":"home"}}`,
		`{"type":"block_actions","user":{"id":"UAGENT"},"actions":[{"action_id":"empathy_claim","value":"CSUPPORT|1.1"}]}`,
		`{"type":"block_actions","user":{"id":"UAGENT"},"actions":[{"action_id":"empathy_done","value":"|||"}]}`,
		`{"command":"/empathy","text":"stats","user_id":"UAGENT","channel_id":"CSUPPORT"}`,
		`{"type":"event_callback","event":{"type":"message","channel":42}}`,
		"\xff\xfe", `{"type":"event_callback","event":{"type":"message","subtype":"bot_message","text":"` + string(make([]byte, 100)) + `"}}`,
	} {
		f.Add([]byte(s))
	}
	h := startBot(f, nil)
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, data []byte) {
		i := n.Add(1)
		frames := [][]byte{data}
		for _, typ := range []string{"events_api", "slash_commands", "interactive", "hello", "disconnect"} {
			if typ == "disconnect" {
				continue // a real disconnect is tested elsewhere; here it would only slow the fuzzer
			}
			frames = append(frames, []byte(fmt.Sprintf(`{"envelope_id":"fz-%d-%s","type":%q,"accepts_response_payload":true,"payload":%s}`, i, typ, typ, data)))
		}
		for _, fr := range frames {
			if err := h.fake.SendRaw(fr); err != nil {
				t.Fatalf("socket gone: %v", err)
			}
		}
		env, ev, err := h.fake.SendMessage(slackfake.Message{Channel: chSupport, User: customer, TS: fmt.Sprintf("1700008000.%06d", i%1000000), Text: "thanks, all good"})
		if err != nil {
			t.Fatalf("socket gone after the frame: %v", err)
		}
		if _, ok := h.fake.WaitAck(env, 5*time.Second); !ok {
			t.Fatalf("no ack for a good message after %q", data)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			h.mu.Lock()
			done := h.handled[ev] > 0
			h.mu.Unlock()
			if done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a good message was not handled after %q", data)
			}
			time.Sleep(time.Millisecond)
		}
	})
}

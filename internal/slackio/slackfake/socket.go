package slackfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &conn{ws: ws, done: make(chan struct{})}
	s.mu.Lock()
	s.conns = append(s.conns, c)
	n := len(s.conns)
	s.mu.Unlock()
	hello, _ := json.Marshal(map[string]any{"type": "hello", "num_connections": n,
		"connection_info": map[string]any{"app_id": "AEMPATHY"}, "debug_info": map[string]any{"host": "slackfake"}})
	if err := c.write(websocket.TextMessage, hello); err != nil {
		s.remove(c)
		return
	}
	go s.pinger(c)
	s.reader(c)
}

func (s *Server) pinger(c *conn) {
	for {
		s.mu.Lock()
		every, off := s.pingEvery, c.silent
		s.mu.Unlock()
		select {
		case <-c.done:
			return
		case <-time.After(every):
		}
		if off {
			continue
		}
		c.wmu.Lock()
		err := c.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
		c.wmu.Unlock()
		if err != nil {
			return
		}
	}
}

func (s *Server) reader(c *conn) {
	defer s.remove(c)
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(b, &ack) != nil || ack.EnvelopeID == "" {
			// Slack expects nothing without an envelope ID (hello, disconnect
			// need no ack): such a frame is the app's mistake.
			s.mu.Lock()
			s.noEnvelope++
			s.mu.Unlock()
			continue
		}
		s.mu.Lock()
		a := Ack{EnvelopeID: ack.EnvelopeID, Payload: ack.Payload}
		if sent, ok := s.sent[ack.EnvelopeID]; ok {
			a.Latency = time.Since(sent.at)
		}
		if _, dup := s.acks[ack.EnvelopeID]; !dup {
			s.acks[ack.EnvelopeID] = a
		}
		s.ackCond.Broadcast()
		s.mu.Unlock()
	}
}

func (s *Server) remove(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.conns {
		if x == c {
			s.conns = append(s.conns[:i], s.conns[i+1:]...)
			close(c.done)
			c.ws.Close()
			return
		}
	}
}

// DropSockets closes every socket abruptly, as a network failure would. The
// sockets are forgotten before it returns, so Connections and the envelope
// senders see only sockets the client opens afterwards.
func (s *Server) DropSockets() {
	s.mu.Lock()
	conns := append([]*conn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		s.remove(c)
	}
}

// Disconnect sends a Socket Mode disconnect message with reason
// ("refresh_requested", "warning", "link_disabled") on every socket. Like
// Slack, it sends no more envelopes on those sockets.
func (s *Server) Disconnect(reason string) error {
	msg, _ := json.Marshal(map[string]any{"type": "disconnect", "reason": reason,
		"debug_info": map[string]any{"host": "slackfake"}})
	err := s.broadcast(msg)
	s.mu.Lock()
	for _, c := range s.conns {
		c.silent = true
	}
	s.mu.Unlock()
	return err
}

// SendRaw writes raw bytes as a text frame on the next socket (round robin),
// for malformed-envelope tests.
func (s *Server) SendRaw(b []byte) error {
	c, err := s.pick()
	if err != nil {
		return err
	}
	return c.write(websocket.TextMessage, b)
}

func (s *Server) broadcast(b []byte) error {
	s.mu.Lock()
	conns := append([]*conn(nil), s.conns...)
	s.mu.Unlock()
	if len(conns) == 0 {
		return errors.New("slackfake: no socket connected")
	}
	for _, c := range conns {
		c.write(websocket.TextMessage, b)
	}
	return nil
}

func (s *Server) pick() (*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range s.conns {
		c := s.conns[s.next%len(s.conns)]
		s.next++
		if !c.silent {
			return c, nil
		}
	}
	return nil, errors.New("slackfake: no socket connected")
}

// send writes an envelope on the next socket and records when.
func (s *Server) send(env map[string]any) (string, error) {
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("env-%d", s.seq)
	env["envelope_id"] = id
	b, err := json.Marshal(env)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	if s.lean {
		s.sent[id] = sentEnvelope{at: time.Now()} // the send time is all an ack needs
	} else {
		s.sent[id] = sentEnvelope{body: b, at: time.Now(), env: env}
	}
	s.mu.Unlock()
	// Slack delivers over another of the app's connections when one has
	// gone (the app reconnected): a connection that fails the write is
	// dropped, and the envelope goes on the next. With none connected at
	// the moment (every replica reconnecting), Slack keeps the event and
	// delivers it when a connection comes: here, for up to 10 s.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := s.pick()
		if err != nil {
			if time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			return "", err
		}
		if err := c.write(websocket.TextMessage, b); err != nil {
			s.remove(c)
			continue
		}
		return id, nil
	}
}

// Message describes a message event to deliver.
type Message struct {
	Channel  string
	User     string
	Text     string
	TS       string // defaults to a fresh timestamp
	ThreadTS string
	SubType  string
	BotID    string
	// UserTeam is sent as user_team only when set: real message events
	// often carry only team (the author's team, always sent).
	UserTeam string
	Team     string // defaults to the author's team
	// Blocks, when set, are sent as the event's blocks (JSON, as Slack
	// sends them: a rich_text block for what the author typed).
	Blocks json.RawMessage
}

var slackMarkup = regexp.MustCompile(`<(?:[@#!][^<>]*|https?://[^<>]*|mailto:[^<>]*)>`)

// EscapeText escapes text the way Slack does in the events it sends: &, <
// and > become &amp;, &lt; and &gt;, except inside Slack's own markup
// (<@U…>, <#C…|name>, <!here>, <https://…|label>).
func EscapeText(text string) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	var b strings.Builder
	last := 0
	for _, m := range slackMarkup.FindAllStringIndex(text, -1) {
		b.WriteString(esc.Replace(text[last:m[0]]))
		b.WriteString(text[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(esc.Replace(text[last:]))
	return b.String()
}

// SendMessage delivers a message event in an events_api envelope and returns
// the envelope and event IDs.
func (s *Server) SendMessage(m Message) (envelopeID, eventID string, err error) {
	s.mu.Lock()
	s.seq++
	if m.TS == "" {
		m.TS = s.newTS()
	} else {
		s.noteTS(m.TS)
	}
	if m.Team == "" {
		if u, ok := s.users[m.User]; ok {
			m.Team = u.TeamID
		} else {
			m.Team = s.TeamID
		}
	}
	eventID = fmt.Sprintf("Ev%06d", s.seq)
	if m.ThreadTS != "" && m.ThreadTS != m.TS {
		s.replies[m.Channel+"|"+m.ThreadTS]++
	}
	s.keep(m.Channel, threadMsg{user: m.User, ts: m.TS, thread: m.ThreadTS, text: m.Text})
	s.mu.Unlock()
	// Slack escapes &, < and > in message text, except in its own markup.
	ev := map[string]any{"type": "message", "channel": m.Channel, "user": m.User, "text": EscapeText(m.Text),
		"ts": m.TS, "event_ts": m.TS, "team": m.Team, "channel_type": "channel"}
	if m.SubType == "thread_broadcast" || m.SubType == "file_share" {
		// Slack sends these without the author's team.
		delete(ev, "team")
	}
	if m.UserTeam != "" {
		ev["user_team"] = m.UserTeam
	}
	if m.ThreadTS != "" {
		ev["thread_ts"] = m.ThreadTS
	}
	if m.SubType != "" {
		ev["subtype"] = m.SubType
	}
	if m.BotID != "" {
		ev["bot_id"] = m.BotID
	}
	if m.Blocks != nil {
		ev["blocks"] = m.Blocks
	}
	envelopeID, err = s.SendEvent(eventID, ev)
	return envelopeID, eventID, err
}

// EditMessage sends what Slack sends when the author of orig (as it was
// sent) edits it to text: a message_changed event carrying the message as
// it now reads, with edited, and the previous message.
func (s *Server) EditMessage(orig Message, text string) (envelopeID, eventID string, err error) {
	s.mu.Lock()
	s.seq++
	eventID = fmt.Sprintf("Ev%06d", s.seq)
	ts := s.newTS()
	s.mu.Unlock()
	msg := map[string]any{"type": "message", "user": orig.User, "text": EscapeText(text), "ts": orig.TS,
		"edited": map[string]any{"user": orig.User, "ts": ts}}
	prev := map[string]any{"type": "message", "user": orig.User, "text": EscapeText(orig.Text), "ts": orig.TS}
	if orig.ThreadTS != "" {
		msg["thread_ts"], prev["thread_ts"] = orig.ThreadTS, orig.ThreadTS
	}
	ev := map[string]any{"type": "message", "subtype": "message_changed", "hidden": true, "channel": orig.Channel,
		"ts": ts, "event_ts": ts, "message": msg, "previous_message": prev, "channel_type": "channel"}
	envelopeID, err = s.SendEvent(eventID, ev)
	return envelopeID, eventID, err
}

// DeleteMessage sends what Slack sends when orig (as it was sent) is
// deleted: a message_deleted event with deleted_ts and the previous message.
func (s *Server) DeleteMessage(orig Message) (envelopeID, eventID string, err error) {
	s.mu.Lock()
	s.seq++
	eventID = fmt.Sprintf("Ev%06d", s.seq)
	ts := s.newTS()
	s.mu.Unlock()
	prev := map[string]any{"type": "message", "user": orig.User, "text": EscapeText(orig.Text), "ts": orig.TS}
	if orig.ThreadTS != "" {
		prev["thread_ts"] = orig.ThreadTS
	}
	ev := map[string]any{"type": "message", "subtype": "message_deleted", "hidden": true, "channel": orig.Channel,
		"ts": ts, "event_ts": ts, "deleted_ts": orig.TS, "previous_message": prev, "channel_type": "channel"}
	envelopeID, err = s.SendEvent(eventID, ev)
	return envelopeID, eventID, err
}

// SendEvent wraps an inner event in an events_api envelope with the given event ID.
func (s *Server) SendEvent(eventID string, inner map[string]any) (string, error) {
	payload := map[string]any{"token": "verification", "team_id": s.TeamID, "api_app_id": "AEMPATHY",
		"event": inner, "type": "event_callback", "event_id": eventID, "event_time": time.Now().Unix()}
	env := map[string]any{"type": "events_api", "payload": payload, "accepts_response_payload": false, "retry_attempt": 0}
	id, err := s.send(env)
	if err == nil {
		go s.retryUnacked(id, env)
	}
	return id, err
}

// SetRedelivery sets the retry schedule of unacked Events API envelopes:
// the n-th retry goes out after[n-1] after the previous attempt if none of
// the attempts was acked by then (Slack: 3 s, about 1 min, about 5 min).
// None turns retries off.
func (s *Server) SetRedelivery(after ...time.Duration) {
	s.mu.Lock()
	s.redeliver = after
	s.mu.Unlock()
}

// Redelivered counts the retries sent for unacked envelopes.
func (s *Server) Redelivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.redelivered
}

// FramesWithoutEnvelope counts frames the app sent without an envelope ID:
// an ack for nothing, which real Slack treats as an error.
func (s *Server) FramesWithoutEnvelope() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.noEnvelope
}

// retryUnacked redelivers an events_api envelope as Slack does while none
// of its attempts is acked: a new envelope ID, retry_attempt 1..n,
// retry_reason "timeout", on whichever socket is next. Slack never
// redelivers an acked envelope.
func (s *Server) retryUnacked(first string, env map[string]any) {
	s.mu.Lock()
	schedule := append([]time.Duration(nil), s.redeliver...)
	s.mu.Unlock()
	ids := []string{first}
	acked := func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, id := range ids {
			if _, ok := s.acks[id]; ok {
				return true
			}
		}
		return false
	}
	for n, wait := range schedule {
		time.Sleep(wait)
		if acked() {
			return
		}
		again := map[string]any{}
		for k, v := range env {
			again[k] = v
		}
		again["retry_attempt"] = n + 1
		again["retry_reason"] = "timeout"
		id, err := s.send(again)
		if err != nil {
			continue // no socket: Slack tries again at the next step
		}
		s.mu.Lock()
		s.redelivered++
		s.mu.Unlock()
		ids = append(ids, id)
	}
}

// Redeliver sends an envelope again, as Slack does when an ack was late: a new
// envelope ID, the same event, retry_attempt one higher.
func (s *Server) Redeliver(envelopeID string) (string, error) {
	s.mu.Lock()
	old, ok := s.sent[envelopeID]
	s.mu.Unlock()
	if !ok || old.env == nil {
		return "", fmt.Errorf("slackfake: no envelope %s (or Lean() is on)", envelopeID)
	}
	env := map[string]any{}
	for k, v := range old.env {
		env[k] = v
	}
	n, _ := env["retry_attempt"].(int)
	env["retry_attempt"] = n + 1
	env["retry_reason"] = "timeout"
	return s.send(env)
}

// SlashCommand sends a slash command envelope and returns what the user sees:
// the ack's payload when it carries a reply, else the first post to the
// command's response_url within timeout.
func (s *Server) SlashCommand(user, channel, command, text string, timeout time.Duration) (json.RawMessage, error) {
	s.mu.Lock()
	s.seq++
	rid := fmt.Sprintf("cmd-%d", s.seq)
	// In a Slack Connect channel the payload carries the invoking user's team.
	team := s.TeamID
	if u, ok := s.users[user]; ok {
		team = u.TeamID
	}
	s.mu.Unlock()
	text = s.escapeCommandText(text)
	payload := map[string]any{"token": "verification", "team_id": team, "channel_id": channel,
		"user_id": user, "command": command, "text": text, "api_app_id": "AEMPATHY",
		"response_url": s.ResponseURL(rid), "trigger_id": "trig"}
	id, err := s.send(map[string]any{"type": "slash_commands", "payload": payload, "accepts_response_payload": true})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	a, ok := s.WaitAck(id, timeout)
	if !ok {
		return nil, fmt.Errorf("slackfake: no ack for %s within %v", id, timeout)
	}
	if len(a.Payload) > 0 && string(a.Payload) != "null" && string(a.Payload) != "{}" {
		return a.Payload, nil
	}
	body, ok := s.WaitResponse(rid, timeout-time.Since(start))
	if !ok {
		return nil, fmt.Errorf("slackfake: %s acked without a reply and nothing came to its response_url within %v", id, timeout)
	}
	return body, nil
}

var (
	escapedMention = regexp.MustCompile(`<@([UW][A-Z0-9]+)(\|[^>]*)?>`)
	plainMention   = regexp.MustCompile(`(^|\s)@([A-Za-z0-9][A-Za-z0-9._-]*)`)
)

// SetShouldEscape says how the app's slash command is configured (the
// manifest's should_escape). Like Slack: with true, a typed @name of a
// member arrives as <@U…|name>; with false, as plain @name.
func (s *Server) SetShouldEscape(escape bool) {
	s.mu.Lock()
	s.shouldEscape = escape
	s.mu.Unlock()
}

// escapeCommandText turns mentions in what the user typed (either form)
// into the form Slack sends for the command's should_escape.
func (s *Server) escapeCommandText(text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	nameOf := func(id string) string {
		if u, ok := s.users[id]; ok {
			return strings.ToLower(strings.Fields(u.Name + " x")[0])
		}
		return strings.ToLower(id)
	}
	// First, everything as typed (@name).
	text = escapedMention.ReplaceAllStringFunc(text, func(m string) string {
		return "@" + nameOf(escapedMention.FindStringSubmatch(m)[1])
	})
	if !s.shouldEscape {
		return text
	}
	return plainMention.ReplaceAllStringFunc(text, func(m string) string {
		sub := plainMention.FindStringSubmatch(m)
		for id := range s.users {
			if nameOf(id) == strings.ToLower(sub[2]) {
				return sub[1] + "<@" + id + "|" + strings.ToLower(sub[2]) + ">"
			}
		}
		return m // not a member: Slack leaves it as typed
	})
}

// Action describes a click on a Block Kit button in a message the app posted.
type Action struct {
	User     string
	Channel  string
	ActionID string
	Value    string
	// MessageTS is the clicked message; Container is "ephemeral" for an
	// ephemeral message (the default), "message", or "view" (App Home).
	MessageTS string
	Container string
}

// Click sends a block_actions interactive envelope and returns its envelope
// ID and the response_url ID (see WaitResponse).
func (s *Server) Click(a Action) (envelopeID, responseID string, err error) {
	s.mu.Lock()
	s.seq++
	rid := fmt.Sprintf("act-%d", s.seq)
	team := s.TeamID
	if u, ok := s.users[a.User]; ok {
		team = u.TeamID
	}
	s.mu.Unlock()
	if a.Container == "" {
		a.Container = "ephemeral"
	}
	container := map[string]any{"type": "message", "message_ts": a.MessageTS, "channel_id": a.Channel,
		"is_ephemeral": a.Container == "ephemeral"}
	if a.Container == "view" { // a button in App Home: a view, and no response_url
		container = map[string]any{"type": "view", "view_id": "VHOME"}
	}
	payload := map[string]any{
		"type": "block_actions", "token": "verification", "api_app_id": "AEMPATHY", "trigger_id": "trig",
		"team":         map[string]any{"id": s.TeamID},
		"user":         map[string]any{"id": a.User, "team_id": team},
		"channel":      map[string]any{"id": a.Channel},
		"container":    container,
		"response_url": s.ResponseURL(rid),
		"actions": []map[string]any{{"type": "button", "action_id": a.ActionID, "block_id": "b",
			"value": a.Value, "action_ts": fmt.Sprintf("%d.%06d", time.Now().Unix(), 1)}},
	}
	if a.Container == "view" {
		payload["view"] = map[string]any{"id": "VHOME", "type": "home"}
		delete(payload, "response_url")
		delete(payload, "channel")
	}
	id, err := s.send(map[string]any{"type": "interactive", "payload": payload, "accepts_response_payload": false})
	return id, rid, err
}

// WaitAck waits for the ack of an envelope.
func (s *Server) WaitAck(envelopeID string, timeout time.Duration) (Ack, bool) {
	var a Ack
	ok := s.waitUntil(s.ackCond, timeout, func() bool {
		var found bool
		a, found = s.acks[envelopeID]
		return found
	})
	return a, ok
}

// WaitEventAck waits until an attempt of Events API event eventID, the
// first or one of Slack's redeliveries, is acked.
func (s *Server) WaitEventAck(eventID string, timeout time.Duration) (Ack, bool) {
	var a Ack
	ok := s.waitUntil(s.ackCond, timeout, func() bool {
		for id, ack := range s.acks {
			if p, _ := s.sent[id].env["payload"].(map[string]any); p != nil && p["event_id"] == eventID {
				a = ack
				return true
			}
		}
		return false
	})
	return a, ok
}

// AckLatencies returns the latency of every ack received so far.
func (s *Server) AckLatencies() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]time.Duration, 0, len(s.acks))
	for _, a := range s.acks {
		out = append(out, a.Latency)
	}
	return out
}

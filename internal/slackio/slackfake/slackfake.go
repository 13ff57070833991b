// Package slackfake is a local Slack for tests and the demo: a real HTTP server
// that speaks the subset of the Web API empathybot calls, plus a Socket Mode
// WebSocket that sends hello, envelopes, pings and disconnects and records the
// app's acks. slack-go talks to it exactly as it talks to Slack; point the
// client's API URL at Server.APIURL().
//
// Every Web API call is recorded. Fault switches make it answer 429 with
// Retry-After, drop sockets, stop pinging, ask for a reconnect or redeliver an
// envelope.
package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// User is a member of the fake workspace.
type User struct {
	ID     string
	Name   string
	TeamID string
	IsBot  bool
	// Guest: a multi-channel guest of the workspace (is_restricted): a
	// member of its team that is not one of its people.
	Guest bool
}

// Call is one recorded Web API call.
type Call struct {
	Method string
	Args   url.Values
	At     time.Time
}

// Ack is one envelope acknowledgement the app sent.
type Ack struct {
	EnvelopeID string
	Payload    json.RawMessage
	Latency    time.Duration // from sending the envelope to receiving the ack
}

// Server is the fake Slack.
type Server struct {
	TeamID    string
	BotUserID string
	BotToken  string
	AppToken  string
	// EnterpriseID, when set, makes the workspace part of an Enterprise
	// Grid organisation (auth.test reports it).
	EnterpriseID string

	srv      *http.Server
	ln       net.Listener
	upgrader websocket.Upgrader

	mu          sync.Mutex
	users       map[string]User
	channels    map[string]string // ID → name
	groups      map[string][]string
	calls       []Call
	callCond    *sync.Cond
	acks        map[string]Ack
	ackCond     *sync.Cond
	sent        map[string]sentEnvelope
	conns       []*conn
	next        int
	seq         int
	rateLimits  map[string]*rateLimit
	failures    map[string]int // method → remaining 500s
	drops       map[string]int // method → remaining connections closed without an answer
	apiErrors   map[string]apiError
	delay       time.Duration
	lean        bool
	pingEvery   time.Duration
	opened      int
	redeliver   []time.Duration // Events API retry schedule for unacked envelopes
	redelivered int
	noEnvelope  int            // frames the app sent without an envelope_id (errors)
	lastTS      int64          // microseconds of the last ts handed out
	replies     map[string]int // channel|thread ts → replies in the thread
	// threads holds the messages of each thread, parent first, by
	// channel|thread ts, and threadOf each message's thread by
	// channel|ts: what conversations.replies reads.
	threads      map[string][]threadMsg
	threadOf     map[string]string
	shouldEscape bool                       // the slash command's should_escape (SetShouldEscape)
	tierCalls    map[string][]time.Time     // recent calls of rate-limited methods (tierLimits)
	members      map[string]map[string]bool // channel → members (SetMembers)
	methodDelay  map[string]time.Duration
	lostAnswers  map[string]int        // method → remaining calls carried out, then the connection closed unanswered
	lateAnswers  map[string]lateAnswer // method → calls carried out, then answered late
	posted       map[string][]posted   // channel → messages the bot posted, oldest first
	uploads      map[string]*File      // file ID → a file whose upload was started (files.getUploadURLExternal)
}

// File is a file the bot uploaded, as the fake keeps it: started with
// files.getUploadURLExternal, its bytes posted to the upload URL, and
// shared in a channel by files.completeUploadExternal (Channel set then).
type File struct {
	ID, Name, Title string
	Length          int    // the length files.getUploadURLExternal was told
	Data            []byte // what was posted to the upload URL
	Uploaded        bool
	Channel         string // where files.completeUploadExternal shared it ("" until then)
	Comment         string // its initial_comment
}

// lateAnswer holds the answers of the next n calls of a method back for d
// after carrying them out.
type lateAnswer struct {
	n int
	d time.Duration
}

// posted is a message the bot posted, as conversations.history returns it:
// its ts, text and metadata (event type and payload), never more.
type posted struct {
	ts, text string
	metadata json.RawMessage
}

// newTS returns a fresh message ts, later than every one before, as Slack's
// are within a workspace ("1700000000.000100": seconds and microseconds).
// Callers hold s.mu.
func (s *Server) newTS() string {
	us := max(time.Now().UnixMicro(), s.lastTS+1)
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// noteTS makes later ts newer than ts (a message whose ts the test chose).
func (s *Server) noteTS(ts string) {
	sec, frac, _ := strings.Cut(ts, ".")
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 == nil && err2 == nil && a*1e6+b > s.lastTS {
		s.lastTS = a*1e6 + b
	}
}

type apiError struct {
	name string
	n    int
}

type rateLimit struct {
	until      time.Time
	retryAfter int
}

type sentEnvelope struct {
	body []byte
	at   time.Time
	env  map[string]any
}

type conn struct {
	silent bool // guarded by Server.mu: no pings, no envelopes
	ws     *websocket.Conn
	wmu    sync.Mutex
	done   chan struct{}
}

func (c *conn) write(msgType int, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(msgType, b)
}

// New starts a fake Slack on a free loopback port.
func New() (*Server, error) {
	s := &Server{
		TeamID:      "T0EMPATHY",
		BotUserID:   "UBOT",
		BotToken:    "xoxb-fake-bot-token",
		AppToken:    "xapp-fake-app-token",
		users:       map[string]User{},
		channels:    map[string]string{},
		groups:      map[string][]string{},
		acks:        map[string]Ack{},
		sent:        map[string]sentEnvelope{},
		rateLimits:  map[string]*rateLimit{},
		failures:    map[string]int{},
		drops:       map[string]int{},
		replies:     map[string]int{},
		threads:     map[string][]threadMsg{},
		threadOf:    map[string]string{},
		tierCalls:   map[string][]time.Time{},
		apiErrors:   map[string]apiError{},
		lostAnswers: map[string]int{},
		lateAnswers: map[string]lateAnswer{},
		posted:      map[string][]posted{},
		uploads:     map[string]*File{},
		pingEvery:   2 * time.Second,
		// Slack retries an unacked Events API envelope 3 times: at once
		// after the 3 s deadline, then about 1 and 5 minutes later.
		redeliver: []time.Duration{3 * time.Second, time.Minute, 5 * time.Minute},
		// slack-go sends Origin: https://api.slack.com; accept any origin.
		upgrader: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
	}
	s.callCond = sync.NewCond(&s.mu)
	s.ackCond = sync.NewCond(&s.mu)
	s.users[s.BotUserID] = User{ID: s.BotUserID, Name: "empathybot", TeamID: s.TeamID, IsBot: true}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("slackfake: listen: %w", err)
	}
	s.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("/response/", s.handleResponseURL)
	mux.HandleFunc("/upload/", s.handleUpload)
	mux.HandleFunc("/ws", s.handleWS)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Tokens are the tokens the fake accepts (for leak checks).
func (s *Server) Tokens() []string { return []string{s.BotToken, s.AppToken} }

// APIURL is the Web API base URL, with the trailing slash slack-go needs.
func (s *Server) APIURL() string { return "http://" + s.ln.Addr().String() + "/api/" }

// Close stops the server and drops every socket.
func (s *Server) Close() {
	s.DropSockets()
	s.srv.Close()
}

// AddUser adds a workspace member (or, with another team ID, a Slack Connect guest).
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.TeamID == "" {
		u.TeamID = s.TeamID
	}
	s.users[u.ID] = u
}

// AddChannel adds a channel.
func (s *Server) AddChannel(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[id] = name
}

// SetMembers sets who is in a channel. Like Slack, an ephemeral message to
// someone who is not a member is refused with user_not_in_channel. A
// channel whose members were never set lets everyone in.
func (s *Server) SetMembers(channel string, users ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.members == nil {
		s.members = map[string]map[string]bool{}
	}
	s.members[channel] = map[string]bool{}
	for _, u := range users {
		s.members[channel][u] = true
	}
}

// SetUsergroup sets the members of a user group.
func (s *Server) SetUsergroup(id string, members []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[id] = append([]string(nil), members...)
}

// RateLimit makes every call to method answer 429 with Retry-After for the
// next d (at least one call).
func (s *Server) RateLimit(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	secs := int((d + time.Second - 1) / time.Second)
	s.rateLimits[method] = &rateLimit{until: time.Now().Add(d), retryAfter: max(secs, 1)}
}

// RateLimitFor makes every call to method answer 429 with the given
// Retry-After (whole seconds) for the next d: a rolling storm, in which
// each retry after the advertised wait meets another 429.
func (s *Server) RateLimitFor(method string, d, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimits[method] = &rateLimit{until: time.Now().Add(d), retryAfter: max(int(retryAfter/time.Second), 1)}
}

// FailNext makes the next n calls to method answer HTTP 500.
func (s *Server) FailNext(method string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = n
}

// DropNext makes the next n calls to method close their connection without
// an answer, as a keep-alive connection the server or a load balancer has
// just closed does: the client reads EOF.
func (s *Server) DropNext(method string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops[method] = n
}

// LoseAnswerNext makes the next n calls to method be carried out (a message
// posted is posted, and recorded as a call) and then their connection
// closed with no answer: the client reads EOF and cannot tell whether
// Slack did it.
func (s *Server) LoseAnswerNext(method string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lostAnswers[method] = n
}

// AnswerLateNext makes the next n calls to method be carried out at once
// and answered only after d: past the client's timeout, it has given up
// waiting although Slack did what it asked.
func (s *Server) AnswerLateNext(method string, n int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lateAnswers[method] = lateAnswer{n, d}
}

// FailWith makes the next n calls to method answer {"ok":false,"error":name},
// as Slack does for, say, a user who left the channel.
func (s *Server) FailWith(method, name string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiErrors[method] = apiError{name: name, n: n}
}

// Lean stops keeping sent envelopes (Redeliver then fails), so a load
// generator sending millions of them does not grow its own heap and skew
// the latencies it measures.
func (s *Server) Lean() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lean = true
}

// SetDelay slows every Web API answer by d.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// SetMethodDelay makes every call to method take d before it is answered
// (on top of SetDelay).
func (s *Server) SetMethodDelay(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.methodDelay == nil {
		s.methodDelay = map[string]time.Duration{}
	}
	s.methodDelay[method] = d
}

// SetPingInterval sets how often sockets are pinged; StopPings stops pinging.
func (s *Server) SetPingInterval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingEvery = d
}

// StopPings stops WebSocket pings on every socket open now, as a dying link
// would; sockets opened later are pinged as usual. The silent sockets stay
// open, and envelopes are no longer sent on them.
func (s *Server) StopPings() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.silent = true
	}
}

// Calls returns the recorded calls to method ("" for all).
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// WaitCalls waits until at least n calls to method were recorded, or timeout.
func (s *Server) WaitCalls(method string, n int, timeout time.Duration) ([]Call, bool) {
	var out []Call
	ok := s.waitUntil(s.callCond, timeout, func() bool {
		out = out[:0]
		for _, c := range s.calls {
			if c.Method == method {
				out = append(out, c)
			}
		}
		return len(out) >= n
	})
	return out, ok
}

// waitUntil waits on cond (whose lock is s.mu) until done reports true or
// timeout passes; done runs with s.mu held.
func (s *Server) waitUntil(cond *sync.Cond, timeout time.Duration, done func() bool) bool {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() { s.mu.Lock(); cond.Broadcast(); s.mu.Unlock() })
	defer t.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !done() {
		if time.Now().After(deadline) {
			return false
		}
		cond.Wait()
	}
	return true
}

// Connections is the number of open Socket Mode connections that are alive
// (pinged; see StopPings).
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		if !c.silent {
			n++
		}
	}
	return n
}

// Opened counts apps.connections.open calls that succeeded.
func (s *Server) Opened() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened
}

// WaitOpened waits until apps.connections.open has succeeded n times.
func (s *Server) WaitOpened(n int, timeout time.Duration) bool {
	return s.waitUntil(s.callCond, timeout, func() bool { return s.opened >= n })
}

// WaitConnections waits until n sockets are open.
func (s *Server) WaitConnections(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s.Connections() >= n {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// --- Web API ---

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	args := url.Values{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		// JSON methods (views.publish...): top-level fields become args, objects as JSON.
		var body map[string]json.RawMessage
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&body); err != nil && err != io.EOF {
			writeJSON(w, map[string]any{"ok": false, "error": "invalid_json"})
			return
		}
		for k, v := range body {
			var str string
			if json.Unmarshal(v, &str) == nil {
				args.Set(k, str)
			} else {
				args.Set(k, string(v))
			}
		}
	} else if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	} else {
		for k, v := range r.Form {
			args[k] = v
		}
	}
	token := args.Get("token")
	args.Del("token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimPrefix(h, "Bearer ")
	}

	s.mu.Lock()
	delay := s.delay + s.methodDelay[method]
	// Tier 2 methods: about 20 calls a minute, then 429 until the minute is up.
	if perMinute := tierLimits[method]; perMinute > 0 {
		cut := time.Now().Add(-time.Minute)
		recent := s.tierCalls[method][:0]
		for _, at := range s.tierCalls[method] {
			if at.After(cut) {
				recent = append(recent, at)
			}
		}
		s.tierCalls[method] = recent
		if len(recent) >= perMinute {
			retry := int(time.Until(recent[0].Add(time.Minute)).Seconds()) + 1
			s.calls = append(s.calls, Call{Method: method + ":429", Args: args, At: time.Now()})
			s.callCond.Broadcast()
			s.mu.Unlock()
			w.Header().Set("Retry-After", strconv.Itoa(retry))
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		s.tierCalls[method] = append(recent, time.Now())
	}
	if rl := s.rateLimits[method]; rl != nil && time.Now().Before(rl.until) {
		s.calls = append(s.calls, Call{Method: method + ":429", Args: args, At: time.Now()})
		s.callCond.Broadcast()
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(rl.retryAfter))
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	if s.drops[method] > 0 {
		s.drops[method]--
		s.calls = append(s.calls, Call{Method: method + ":dropped", Args: args, At: time.Now()})
		s.callCond.Broadcast()
		s.mu.Unlock()
		hangUp(w)
		return
	}
	if s.failures[method] > 0 {
		s.failures[method]--
		s.calls = append(s.calls, Call{Method: method + ":500", Args: args, At: time.Now()})
		s.callCond.Broadcast()
		s.mu.Unlock()
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}

	wantToken := s.BotToken
	if method == "apps.connections.open" {
		wantToken = s.AppToken
	}
	if token != wantToken {
		// Slack's answer to a token of the wrong kind: apps.connections.open
		// takes only an app-level token (xapp-), and the Web API methods do
		// not take one.
		e := "invalid_auth"
		if method == "apps.connections.open" && (strings.HasPrefix(token, "xoxb-") || strings.HasPrefix(token, "xoxp-")) ||
			method != "apps.connections.open" && strings.HasPrefix(token, "xapp-") {
			e = "not_allowed_token_type"
		}
		writeJSON(w, map[string]any{"ok": false, "error": e})
		return
	}
	resp := s.answer(method, args, r)
	recorded := method
	if _, hidden := resp[invisible]; hidden {
		delete(resp, invisible)
		recorded = method + ":invisible"
	}
	if ok, _ := resp["ok"].(bool); !ok {
		// Refused calls are recorded apart ("chat.postMessage:invalid_blocks"),
		// so a test counting deliveries never counts one Slack would reject.
		e, _ := resp["error"].(string)
		recorded = method + ":" + e
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: recorded, Args: args, At: time.Now()})
	s.callCond.Broadcast()
	lose := s.lostAnswers[method] > 0
	if lose {
		s.lostAnswers[method]--
	}
	late := s.lateAnswers[method]
	if late.n > 0 {
		s.lateAnswers[method] = lateAnswer{late.n - 1, late.d}
	}
	s.mu.Unlock()
	if lose {
		hangUp(w) // done, but the answer is lost with the connection
		return
	}
	if late.n > 0 {
		select {
		case <-time.After(late.d):
		case <-r.Context().Done():
			return // the client gave up waiting; the call stays done
		}
	}
	writeJSON(w, resp)
}

// hangUp closes the call's connection without an answer: the client reads
// EOF.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // closes the connection without an answer
}

// tierLimits are calls per minute of the rate-limited methods the bot uses
// sparingly (Slack's Tier 2).
var tierLimits = map[string]int{"usergroups.users.list": 20}

// invisible marks an answer Slack gives for a message nobody will see.
const invisible = "_invisible"

func (s *Server) answer(method string, args url.Values, r *http.Request) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := func(m map[string]any) map[string]any { m["ok"] = true; return m }
	if e := s.apiErrors[method]; e.n > 0 {
		e.n--
		s.apiErrors[method] = e
		return map[string]any{"ok": false, "error": e.name}
	}
	switch method {
	case "apps.connections.open":
		s.opened++
		return ok(map[string]any{"url": "ws://" + r.Host + "/ws"})
	case "auth.test":
		resp := ok(map[string]any{"url": "https://fake.slack.test/", "team": "Fake", "user": "empathybot",
			"team_id": s.TeamID, "user_id": s.BotUserID, "bot_id": "BEMPATHY"})
		if s.EnterpriseID != "" {
			resp["enterprise_id"] = s.EnterpriseID
		}
		return resp
	case "chat.postEphemeral":
		if args.Get("channel") == "" || args.Get("user") == "" {
			return map[string]any{"ok": false, "error": "channel_not_found"}
		}
		if m, set := s.members[args.Get("channel")]; set && !m[args.Get("user")] {
			return map[string]any{"ok": false, "error": "user_not_in_channel"}
		}
		if err := checkBlocks(args.Get("blocks"), 50); err != "" {
			return map[string]any{"ok": false, "error": "invalid_blocks", "response_metadata": map[string]any{"messages": []string{err}}}
		}
		s.seq++
		resp := ok(map[string]any{"message_ts": s.newTS()})
		// Slack answers ok but shows nothing for an ephemeral message in a
		// thread that has no replies yet (its thread_ts names a plain
		// message): recorded as "chat.postEphemeral:invisible".
		if th := args.Get("thread_ts"); th != "" && s.replies[args.Get("channel")+"|"+th] == 0 {
			resp[invisible] = true
		}
		return resp
	case "chat.postMessage":
		if args.Get("channel") == "" {
			return map[string]any{"ok": false, "error": "channel_not_found"}
		}
		if err := checkBlocks(args.Get("blocks"), 50); err != "" {
			return map[string]any{"ok": false, "error": "invalid_blocks", "response_metadata": map[string]any{"messages": []string{err}}}
		}
		var meta json.RawMessage
		if m := args.Get("metadata"); m != "" {
			// Slack checks message metadata: an event_type and an
			// event_payload object.
			var md struct {
				EventType    string          `json:"event_type"`
				EventPayload json.RawMessage `json:"event_payload"`
			}
			if json.Unmarshal([]byte(m), &md) != nil || md.EventType == "" || len(md.EventPayload) == 0 || md.EventPayload[0] != '{' {
				return map[string]any{"ok": false, "error": "invalid_metadata_format"}
			}
			meta = json.RawMessage(m)
		}
		s.seq++
		if th := args.Get("thread_ts"); th != "" {
			s.replies[args.Get("channel")+"|"+th]++
		}
		ts := s.newTS()
		s.posted[args.Get("channel")] = append(s.posted[args.Get("channel")], posted{ts: ts, text: args.Get("text"), metadata: meta})
		s.keep(args.Get("channel"), threadMsg{user: s.BotUserID, ts: ts, thread: args.Get("thread_ts"), text: args.Get("text")})
		return ok(map[string]any{"channel": args.Get("channel"), "ts": ts})
	case "files.getUploadURLExternal":
		// Slack's two-step upload: a URL to post the bytes to, and a file ID
		// that files.completeUploadExternal shares once they are there.
		n, err := strconv.Atoi(args.Get("length"))
		if args.Get("filename") == "" || err != nil || n <= 0 {
			return map[string]any{"ok": false, "error": "invalid_arguments"}
		}
		s.seq++
		id := fmt.Sprintf("F%08d", s.seq)
		s.uploads[id] = &File{ID: id, Name: args.Get("filename"), Length: n}
		return ok(map[string]any{"upload_url": "http://" + s.ln.Addr().String() + "/upload/" + id, "file_id": id})
	case "files.completeUploadExternal":
		var files []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		}
		if json.Unmarshal([]byte(args.Get("files")), &files) != nil || len(files) == 0 {
			return map[string]any{"ok": false, "error": "invalid_arguments"}
		}
		ch := args.Get("channel_id")
		var out []map[string]any
		for _, f := range files {
			u := s.uploads[f.ID]
			if u == nil || !u.Uploaded || u.Channel != "" {
				// Never started, its bytes never posted, or completed already.
				return map[string]any{"ok": false, "error": "file_not_found"}
			}
		}
		for _, f := range files {
			u := s.uploads[f.ID]
			u.Title, u.Channel, u.Comment = f.Title, ch, args.Get("initial_comment")
			if u.Title == "" {
				u.Title = u.Name
			}
			out = append(out, map[string]any{"id": u.ID, "title": u.Title, "name": u.Name, "size": len(u.Data)})
		}
		return ok(map[string]any{"files": out})
	case "conversations.history":
		// The bot's own posts in the channel, newest first, at most limit
		// (default 100, as Slack's); metadata only with
		// include_all_metadata, as Slack returns it.
		ch := args.Get("channel")
		if ch == "" {
			return map[string]any{"ok": false, "error": "channel_not_found"}
		}
		limit, err := strconv.Atoi(args.Get("limit"))
		if err != nil || limit <= 0 {
			limit = 100
		}
		withMeta := args.Get("include_all_metadata") == "1" || args.Get("include_all_metadata") == "true"
		all := s.posted[ch]
		var msgs []map[string]any
		for i := len(all) - 1; i >= 0 && len(msgs) < limit; i-- {
			m := map[string]any{"type": "message", "user": s.BotUserID, "bot_id": "BEMPATHY", "ts": all[i].ts, "text": all[i].text}
			if withMeta && all[i].metadata != nil {
				m["metadata"] = all[i].metadata
			}
			msgs = append(msgs, m)
		}
		return ok(map[string]any{"messages": msgs, "has_more": len(all) > limit})
	case "conversations.replies":
		// The thread of ts, parent first, at most limit messages; ts may
		// be the parent's or a reply's (Slack's docs). Every message of a
		// thread carries its thread_ts; an unthreaded message is returned
		// alone, without one.
		key := args.Get("channel") + "|" + args.Get("ts")
		th, found := s.threadOf[key]
		if args.Get("channel") == "" || args.Get("ts") == "" || !found {
			return map[string]any{"ok": false, "error": "thread_not_found"}
		}
		limit, err := strconv.Atoi(args.Get("limit"))
		if err != nil || limit <= 0 || limit > 1000 {
			limit = 1000
		}
		all := s.threads[args.Get("channel")+"|"+th]
		threaded := len(all) > 1
		var msgs []map[string]any
		for _, m := range all {
			if len(msgs) == limit {
				break
			}
			out := map[string]any{"type": "message", "user": m.user, "ts": m.ts, "text": EscapeText(m.text)}
			if threaded {
				out["thread_ts"] = th
			}
			msgs = append(msgs, out)
		}
		return ok(map[string]any{"messages": msgs, "has_more": len(all) > limit})
	case "conversations.open":
		users := args.Get("users")
		if users == "" {
			return map[string]any{"ok": false, "error": "users_list_not_supplied"}
		}
		return ok(map[string]any{"channel": map[string]any{"id": "D" + strings.ReplaceAll(users, ",", "")}})
	case "users.info":
		u, found := s.users[args.Get("user")]
		if !found {
			return map[string]any{"ok": false, "error": "user_not_found"}
		}
		return ok(map[string]any{"user": map[string]any{"id": u.ID, "name": u.Name, "team_id": u.TeamID, "is_bot": u.IsBot,
			"is_restricted": u.Guest, "is_ultra_restricted": false,
			"real_name": u.Name, "profile": map[string]any{"real_name": u.Name, "display_name": u.Name}}})
	case "conversations.info":
		name, found := s.channels[args.Get("channel")]
		if !found {
			return map[string]any{"ok": false, "error": "channel_not_found"}
		}
		return ok(map[string]any{"channel": map[string]any{"id": args.Get("channel"), "name": name, "is_channel": true}})
	case "usergroups.users.list":
		members, found := s.groups[args.Get("usergroup")]
		if !found {
			return map[string]any{"ok": false, "error": "no_such_subteam"}
		}
		return ok(map[string]any{"users": members})
	case "chat.getPermalink":
		return ok(map[string]any{"channel": args.Get("channel"),
			"permalink": "https://fake.slack.test/archives/" + args.Get("channel") + "/p" + strings.ReplaceAll(args.Get("message_ts"), ".", "")})
	case "views.publish":
		if args.Get("user_id") == "" || args.Get("view") == "" {
			return map[string]any{"ok": false, "error": "invalid_arguments"}
		}
		var view struct {
			Blocks json.RawMessage `json:"blocks"`
		}
		json.Unmarshal([]byte(args.Get("view")), &view)
		if err := checkBlocks(string(view.Blocks), 100); err != "" {
			return map[string]any{"ok": false, "error": "invalid_arguments", "response_metadata": map[string]any{"messages": []string{err}}}
		}
		return ok(map[string]any{"view": map[string]any{"id": "V1"}})
	}
	return map[string]any{"ok": false, "error": "unknown_method"}
}

// threadMsg is a message of a thread, as conversations.replies returns it.
type threadMsg struct{ user, ts, thread, text string }

// keep remembers m (a message sent or posted in channel) for
// conversations.replies; a reply whose parent was never sent gets one.
// Callers hold s.mu.
func (s *Server) keep(channel string, m threadMsg) {
	th := m.thread
	if th == "" {
		th = m.ts
	}
	key := channel + "|" + th
	if _, seen := s.threadOf[channel+"|"+m.ts]; seen && m.ts != th {
		return // a reply sent again with its ts
	}
	if len(s.threads[key]) == 0 {
		s.threads[key] = []threadMsg{{user: m.user, ts: th}} // the parent, until it is sent
		s.threadOf[key] = th
	}
	if m.ts == th {
		s.threads[key][0] = m
		return
	}
	s.threads[key] = append(s.threads[key], m)
	s.threadOf[channel+"|"+m.ts] = th
}

// handleResponseURL takes posts to a slash command's or an action's
// response_url, recorded as calls to "response_url" with the URL's ID in
// Args["id"] and the JSON body in Args["payload"].
func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/response/")
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost || !json.Valid(body) {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: "response_url", Args: url.Values{"id": {id}, "payload": {string(body)}}, At: time.Now()})
	s.callCond.Broadcast()
	s.mu.Unlock()
	// Slack answers a response_url post with a plain "ok".
	w.Write([]byte("ok"))
}

// handleUpload takes the bytes of a file started with
// files.getUploadURLExternal, posted raw or as a multipart form (slack-go
// sends the field "file"), and answers as Slack's upload URL does.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var data []byte
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		var f io.ReadCloser
		if f, _, err = r.FormFile("file"); err == nil {
			data, err = io.ReadAll(io.LimitReader(f, 50<<20))
			f.Close()
		}
	} else {
		data, err = io.ReadAll(io.LimitReader(r.Body, 50<<20))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.uploads[id]
	if err != nil || u == nil {
		http.Error(w, "file not found", http.StatusNotFound)
		return
	}
	u.Data, u.Uploaded = data, true
	s.calls = append(s.calls, Call{Method: "upload", Args: url.Values{"file_id": {id}}, At: time.Now()})
	s.callCond.Broadcast()
	fmt.Fprintf(w, "OK - %d", len(data))
}

// Files returns the files shared in channel, in the order they were shared.
func (s *Server) Files(channel string) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, u := range s.uploads {
		if u.Channel == channel {
			out = append(out, *u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ResponseURL is the response_url handed out with envelope id.
func (s *Server) ResponseURL(id string) string {
	return "http://" + s.ln.Addr().String() + "/response/" + id
}

// WaitResponse waits for a post to the response_url of id and returns its body.
func (s *Server) WaitResponse(id string, timeout time.Duration) (json.RawMessage, bool) {
	var out json.RawMessage
	ok := s.waitUntil(s.callCond, timeout, func() bool {
		for _, c := range s.calls {
			if c.Method == "response_url" && c.Args.Get("id") == id {
				out = json.RawMessage(c.Args.Get("payload"))
				return true
			}
		}
		return false
	})
	return out, ok
}

// checkBlocks applies Block Kit's limits that Slack enforces (and that a bot
// can break by accident): at most max blocks, unique block_ids, section text
// up to 3,000 characters, button text up to 75, button values up to 2,000,
// and unique action_ids within a block. It returns "" when the blocks pass.
func checkBlocks(blocksJSON string, max int) string {
	if blocksJSON == "" || blocksJSON == "null" {
		return ""
	}
	var blocks []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
		Text    *struct {
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Type     string          `json:"type"`
			ActionID string          `json:"action_id"`
			Value    string          `json:"value"`
			Text     json.RawMessage `json:"text"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(blocksJSON), &blocks); err != nil {
		return "blocks are not a JSON array of blocks: " + err.Error()
	}
	if len(blocks) > max {
		return fmt.Sprintf("%d blocks, at most %d", len(blocks), max)
	}
	ids := map[string]bool{}
	for i, b := range blocks {
		if b.BlockID != "" {
			if ids[b.BlockID] {
				return fmt.Sprintf("block %d: duplicate block_id %q", i, b.BlockID)
			}
			ids[b.BlockID] = true
		}
		if b.Type == "section" && b.Text != nil && utf8.RuneCountInString(b.Text.Text) > 3000 {
			return fmt.Sprintf("block %d: section text over 3000 characters", i)
		}
		actions := map[string]bool{}
		for _, e := range b.Elements {
			if e.Type != "button" {
				continue
			}
			var t struct {
				Text string `json:"text"`
			}
			json.Unmarshal(e.Text, &t)
			switch {
			case utf8.RuneCountInString(t.Text) > 75:
				return fmt.Sprintf("block %d: button text over 75 characters", i)
			case len(e.Value) > 2000:
				return fmt.Sprintf("block %d: button value over 2000 characters", i)
			case actions[e.ActionID]:
				return fmt.Sprintf("block %d: duplicate action_id %q", i, e.ActionID)
			}
			actions[e.ActionID] = true
		}
	}
	return ""
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

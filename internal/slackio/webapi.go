package slackio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"empathybot/internal/metrics"
	"empathybot/internal/support"
)

// Credentials are how the bot reaches Slack.
type Credentials struct {
	BotToken, AppToken string
	APIURL             string        // Slack's Web API base URL, ending in "/"
	PingInterval       time.Duration // Socket Mode ping interval (0: slack-go's default)
}

// Slack is one app's way to Slack: the Web API and Socket Mode clients. The
// Directory, the Notifier and the Bot share it.
type Slack struct {
	api *slack.Client
	sm  *socketmode.Client
}

// NewSlack builds the clients that reach Slack with cr over hc (nil: a
// client with a 10 s timeout). It does no I/O.
func NewSlack(cr Credentials, hc *http.Client) *Slack {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	api := slack.New(cr.BotToken, slack.OptionAPIURL(cr.APIURL), slack.OptionAppLevelToken(cr.AppToken), slack.OptionHTTPClient(hc))
	var opts []socketmode.Option
	if cr.PingInterval > 0 {
		opts = append(opts, socketmode.OptionPingInterval(cr.PingInterval))
	}
	return &Slack{api: api, sm: socketmode.New(api, opts...)}
}

// webAPI is Slack's Web API with the retry policy (see retry).
type webAPI struct {
	api     *slack.Client
	metrics *metrics.M
	// inlineWait is the longest Retry-After waited out in place (0: none).
	inlineWait time.Duration
}

// permalink is a link to message ts, or "" when Slack cannot give one.
func (w webAPI) permalink(ctx context.Context, channel, ts string) string {
	if ts == "" {
		return ""
	}
	var link string
	_ = w.retry(ctx, "chat.getPermalink", func() error {
		var err error
		link, err = w.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts})
		return err
	})
	return link
}

// threadOf returns the thread that message ts of channel is in: its
// parent's ts, or ts itself when the message is a parent or stands alone
// (or Slack no longer has it). One conversations.replies call (Tier 3 for
// internal apps): only for a 👀 or ✅ of an agent on a message the store
// does not know as a thread.
func (w webAPI) threadOf(ctx context.Context, channel, ts string) (string, error) {
	thread := ts
	err := w.retry(ctx, "conversations.replies", func() error {
		msgs, _, _, err := w.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: ts, Limit: 1})
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.ThreadTimestamp != "" {
				thread = m.ThreadTimestamp
				break
			}
		}
		return nil
	})
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && (se.Err == "thread_not_found" || se.Err == "message_not_found") {
		return ts, nil
	}
	return thread, err
}

// openDM returns the ID of the bot's direct-message channel with user.
func (w webAPI) openDM(ctx context.Context, user string) (string, error) {
	var im string
	err := w.retry(ctx, "conversations.open", func() error {
		ch, _, _, err := w.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
		if err == nil {
			im = ch.ID
		}
		return err
	})
	return im, err
}

// maxInlineWait is the longest Retry-After a call for a person waiting
// (a command, a click, App Home) waits out in place; a longer one is handed
// back to the caller as a *support.RetryLater. The Notifier, which works
// for the durable queue, waits out none: the queue retries the whole task
// later, which decides afresh whether it is still true, so a reminder is
// never sent after the agent answered while it waited.
const maxInlineWait = 2 * time.Second

// errMaybeDelivered marks a call that posts something and may have reached
// Slack without an answer: the connection was lost after the request went
// out, or no answer came in time. It is never repeated in place.
var errMaybeDelivered = errors.New("the request may have reached Slack")

// posting lists the methods whose repetition would show something twice.
var posting = map[string]bool{"chat.postMessage": true, "chat.postEphemeral": true, "files.completeUploadExternal": true}

// retry runs call, waiting out short 429s (Retry-After, with jitter) and
// retrying transient failures (5xx, a connection that was never made, and
// for a call that posts nothing a dropped connection) a few times with
// backoff. A posting call that may have reached Slack is not repeated: it
// returns errMaybeDelivered.
func (w webAPI) retry(ctx context.Context, method string, call func() error) error {
	backoff := 200 * time.Millisecond
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if cerr := ctx.Err(); cerr != nil {
			// Over before the call: nothing was sent, whatever the call.
			return fmt.Errorf("%s: %w", method, cerr)
		}
		err = call()
		if err == nil {
			return nil
		}
		if posting[method] && mayHaveReached(err) {
			return fmt.Errorf("%s: %w: %w", method, errMaybeDelivered, err)
		}
		wait := backoff
		var rl *slack.RateLimitedError
		var sc slack.StatusCodeError
		switch {
		case errors.As(err, &rl):
			if w.inlineWait <= 0 || rl.RetryAfter > w.inlineWait {
				return &support.RetryLater{After: rl.RetryAfter, Err: fmt.Errorf("%s: %w", method, err)}
			}
			wait = rl.RetryAfter
		case errors.As(err, &sc) && sc.Code >= 500, droppedConnection(err):
			backoff *= 2
		default:
			var se slack.SlackErrorResponse
			if errors.As(err, &se) {
				w.metrics.SlackErrors.WithLabelValues(method, knownSlackError(se.Err)).Inc()
			}
			if errors.As(err, &se) && !transientSlackError[se.Err] {
				return fmt.Errorf("%s: %w: %w", method, support.ErrUndeliverable, err)
			}
			return fmt.Errorf("%s: %w", method, err)
		}
		wait += time.Duration(rand.Int64N(int64(wait)/5 + 1)) // jitter: replicas do not retry in step
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", method, ctx.Err())
		case <-time.After(wait):
		}
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &support.RetryLater{After: rl.RetryAfter, Err: fmt.Errorf("%s: %w", method, err)}
	}
	return fmt.Errorf("%s: gave up: %w", method, err)
}

// transientSlackError lists ok:false errors worth retrying; every other
// one (channel_not_found, invalid_blocks, user_not_in_channel...) is final.
var transientSlackError = map[string]bool{"ratelimited": true, "internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true, "team_added_to_org": true}

// knownSlackError keeps the metric's label set bounded: Slack's error names
// are a closed set of snake_case words; anything else is "other".
func knownSlackError(e string) string {
	if len(e) == 0 || len(e) > 40 || strings.Trim(e, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return "other"
	}
	return e
}

// slackError reports whether err is Slack's ok:false answer name.
func slackError(err error, name string) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && se.Err == name
}

// mayHaveReached reports whether a call that failed with err may
// nonetheless have reached Slack: a transport failure after the connection
// was made (closed or reset while waiting for the answer, no answer within
// the client's timeout, the context ending mid-call). A refused
// connection, a failed DNS lookup or a dial that failed never sent
// anything; Slack's own answers (an error, a 429, a 5xx) are not transport
// failures.
func mayHaveReached(err error) bool {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
	}
	var dns *net.DNSError
	var op *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	return true
}

// droppedConnection reports whether err is a connection that failed before
// Slack answered: closed (EOF, as a pooled keep-alive connection the server
// has just dropped gives), reset, or refused. A call that posts nothing is
// retried after one; a posting call is retried only after a refused
// connection, which sent nothing (see mayHaveReached): the others may have
// reached Slack.
func droppedConnection(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

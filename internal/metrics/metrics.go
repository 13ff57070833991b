// Package metrics holds empathybot's Prometheus metrics. Every metric is
// named empathy_...; labels carry kinds, methods and outcomes, never IDs or
// text.
package metrics

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// M is one process's metrics.
type M struct {
	Registry *prometheus.Registry

	Envelopes       *prometheus.CounterVec // type
	AckLatency      prometheus.Histogram   // seconds from receipt to ack written
	Assessments     *prometheus.CounterVec // frustrated=true|false
	Unscored        *prometheus.CounterVec // language
	Nudges          *prometheus.CounterVec // cue
	Reviews         *prometheus.CounterVec // finding
	RemindersSched  *prometheus.CounterVec // kind
	RemindersFired  *prometheus.CounterVec // kind, outcome=sent|moot|failed
	ReminderLate    prometheus.Histogram   // seconds after due
	Feedback        *prometheus.CounterVec // useful=true|false, cue
	Commands        *prometheus.CounterVec // subcommand
	Actions         *prometheus.CounterVec // action
	SlackCalls      *prometheus.CounterVec // method
	SlackErrors     *prometheus.CounterVec // method, code (429, 5xx, error name)
	RedisErrors     *prometheus.CounterVec // command
	QueueDepth      *prometheus.GaugeVec   // state=scheduled|pending
	SocketConnected prometheus.Gauge
	SocketErrors    *prometheus.CounterVec // error: Slack's error name, or network
	WorkQueue       prometheus.Gauge       // commands and clicks acked and waiting for a worker
	InFlight        prometheus.Gauge       // envelopes being recorded, not yet acked
	RecordFailures  prometheus.Counter
	Deliveries      *prometheus.CounterVec   // kind=nudge|review, outcome
	QueueLatency    *prometheus.HistogramVec // kind: from the event (or due time) to delivery
	BuildInfo       *prometheus.GaugeVec     // version, goversion

	ours []prometheus.Collector
}

// New builds the metrics on a registry of their own, with Go and process
// collectors.
func New() *M {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	m := &M{Registry: r}
	m.Envelopes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_envelopes_total", Help: "Socket Mode envelopes received, by type."}, []string{"type"})
	m.AckLatency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "empathy_ack_latency_seconds", Help: "Time from receiving an envelope to writing its ack.",
		Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 3}})
	m.Unscored = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_unscored_messages_total", Help: "Customer messages left unscored because the coach does not read their language."}, []string{"language"})
	m.Assessments = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_assessments_total", Help: "Customer messages assessed, by verdict and primary cue kind."}, []string{"frustrated", "cue"})
	m.Nudges = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_nudges_total", Help: "Private nudges delivered, by primary cue kind."}, []string{"cue"})
	m.Reviews = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_reviews_total", Help: "Reply reviews delivered, by finding."}, []string{"finding"})
	m.RemindersSched = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_reminders_scheduled_total", Help: "Reminders scheduled, by kind."}, []string{"kind"})
	m.RemindersFired = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_reminders_fired_total", Help: "Reminders that came due, by kind and outcome."}, []string{"kind", "outcome"})
	m.ReminderLate = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "empathy_reminder_lateness_seconds", Help: "How late a reminder was delivered after its due time.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 15, 60, 300}})
	m.Feedback = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_feedback_total", Help: "Was-this-useful votes, by answer and cue kind."}, []string{"useful", "cue"})
	m.Commands = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_commands_total", Help: "/empathy invocations, by subcommand."}, []string{"subcommand"})
	m.Actions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_actions_total", Help: "Button clicks, by action."}, []string{"action"})
	m.SlackCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_slack_api_calls_total", Help: "Slack Web API calls, by method."}, []string{"method"})
	m.SlackErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_slack_api_errors_total", Help: "Slack Web API failures, by method and code: 429, 5xx, network, or the error of an ok:false answer (user_not_in_channel, invalid_blocks...)."}, []string{"method", "code"})
	m.RedisErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_redis_errors_total", Help: "Redis command failures, by command."}, []string{"command"})
	m.QueueDepth = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "empathy_queue_depth", Help: "Reminders in the queue, by state."}, []string{"state"})
	m.SocketConnected = prometheus.NewGauge(prometheus.GaugeOpts{Name: "empathy_socket_connected", Help: "1 while the Socket Mode connection is up."})
	m.SocketErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_socket_errors_total", Help: "Socket Mode connection attempts that failed, by Slack's error name (not_allowed_token_type, invalid_auth...) or network."}, []string{"error"})
	m.WorkQueue = prometheus.NewGauge(prometheus.GaugeOpts{Name: "empathy_work_queue_length", Help: "Acked events waiting for a worker (4096 = full: the event loop waits)."})
	m.InFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "empathy_envelopes_in_flight", Help: "Envelopes being recorded and not yet acked (at the limit, the socket is not read: back-pressure)."})
	m.RecordFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: "empathy_envelopes_unacked_total", Help: "Envelopes left unacked because their record step failed (Redis away or slow); Slack redelivers them."})
	m.Deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "empathy_deliveries_total", Help: "Nudges and reviews that left the durable queue, by kind and outcome (sent, stale, moot, unassigned, snoozed, duplicate, refused, unknown: it may have reached Slack and is not sent again, failed)."}, []string{"kind", "outcome"})
	m.QueueLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "empathy_queue_latency_seconds", Help: "From the customer's message (a reminder: its due time) to the delivery leaving the queue, by kind.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15, 60, 300, 900}}, []string{"kind"})
	m.BuildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "empathy_build_info", Help: "Always 1; the labels say which build runs."}, []string{"version", "goversion"})
	m.ours = []prometheus.Collector{m.QueueLatency, m.BuildInfo, m.InFlight, m.RecordFailures, m.Deliveries, m.Envelopes, m.AckLatency, m.Assessments, m.Unscored, m.Nudges, m.Reviews, m.RemindersSched, m.RemindersFired,
		m.ReminderLate, m.Feedback, m.Commands, m.Actions, m.SlackCalls, m.SlackErrors, m.RedisErrors, m.QueueDepth, m.SocketConnected, m.SocketErrors, m.WorkQueue}
	for _, c := range m.ours {
		f(c)
	}
	return m
}

// Names lists the names of every metric of ours (empathy_...), whether or
// not it has been observed yet.
func (m *M) Names() []string {
	ch := make(chan *prometheus.Desc, 256)
	go func() {
		for _, c := range m.ours {
			c.Describe(ch)
		}
		close(ch)
	}()
	var names []string
	for d := range ch {
		s := d.String() // Desc{fqName: "empathy_...", ...}
		if i := strings.Index(s, `fqName: "`); i >= 0 {
			rest := s[i+len(`fqName: "`):]
			names = append(names, rest[:strings.IndexByte(rest, '"')])
		}
	}
	return names
}

// Handler serves the metrics in Prometheus's text format.
func (m *M) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Transport counts Web API calls and their failures by method, then hands the
// request to next.
type Transport struct {
	M    *M
	Next http.RoundTripper
}

func (t Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	method := "other"
	if i := strings.LastIndex(r.URL.Path, "/api/"); i >= 0 {
		method = r.URL.Path[i+5:]
	} else if strings.Contains(r.URL.Path, "/response") || strings.Contains(r.URL.Host, "hooks.slack.com") {
		method = "response_url"
	}
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(r)
	if t.M != nil {
		t.M.SlackCalls.WithLabelValues(method).Inc()
		switch {
		case err != nil:
			t.M.SlackErrors.WithLabelValues(method, "network").Inc()
		case resp.StatusCode == http.StatusTooManyRequests:
			t.M.SlackErrors.WithLabelValues(method, "429").Inc()
		case resp.StatusCode >= 500:
			t.M.SlackErrors.WithLabelValues(method, "5xx").Inc()
		}
	}
	return resp, err
}

package slackio

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"empathybot/internal/metrics"
	"empathybot/internal/support"
)

// DirectoryConfig says who the agents are.
type DirectoryConfig struct {
	Agents     []string // agent user IDs (EMPATHY_AGENTS)
	AgentGroup string   // user group whose members are agents
	// AgentTeams are other workspaces (of our Enterprise Grid organisation)
	// whose members are agents, beside our own.
	AgentTeams []string
}

// Directory tells agents from customers (support.Directory): EMPATHY_AGENTS
// and the agent group when set; otherwise the members of our own team (and
// of EMPATHY_AGENT_TEAMS) are agents, except its guests, and Slack Connect
// users are customers. Whoever it cannot place is never an agent.
//
// Role may wait for Slack (users.info, usergroups.users.list); RoleNow never
// does: it answers from what is cached, starts the lookup behind, and says
// support.Unplaced for a member of our team whose users.info has not landed.
type Directory struct {
	log    *slog.Logger
	web    webAPI
	cfg    DirectoryConfig
	agents map[string]bool
	self   atomic.Pointer[self] // our team, from auth.test (Bot.Run)

	// Now is the clock; tests may replace it before use.
	Now func() time.Time

	groupMu      sync.Mutex
	groupMembers map[string]bool // the last good list (nil before the first)
	groupAt      time.Time
	groupBusy    bool      // a refresh is under way
	groupRetry   time.Time // no refresh before this, after a failure
	groupBackoff time.Duration

	teamsMu sync.Mutex
	teams   map[string]teamEntry     // user → team, for payloads without one
	looking map[string]chan struct{} // users.info lookups on their way, by user
}

type self struct{ team, enterprise string }

type teamEntry struct {
	team string
	at   time.Time
	// full: from users.info, so guest is known; an entry from an event's
	// team is not.
	full   bool
	guest  bool // is_restricted or is_ultra_restricted: a guest, never an agent
	failed bool // users.info failed: the event's team decides (kept a minute)
}

var _ support.Directory = (*Directory)(nil)

// NewDirectory builds the directory for the workspace sl reaches.
func NewDirectory(log *slog.Logger, sl *Slack, cfg DirectoryConfig, m *metrics.M) *Directory {
	if m == nil {
		m = metrics.New()
	}
	d := &Directory{log: log, web: webAPI{api: sl.api, metrics: m, inlineWait: maxInlineWait}, cfg: cfg, agents: map[string]bool{},
		Now: time.Now, teams: map[string]teamEntry{}, looking: map[string]chan struct{}{}}
	for _, a := range cfg.Agents {
		d.agents[a] = true
	}
	return d
}

// setSelf records our workspace and (Enterprise Grid) organisation, from
// auth.test.
func (d *Directory) setSelf(team, enterprise string) {
	d.self.Store(&self{team: team, enterprise: enterprise})
}

// Role implements support.Directory: it may wait for Slack for as long as
// ctx allows (commands, clicks, deliveries).
func (d *Directory) Role(ctx context.Context, user, team string) support.Role {
	r := d.role(ctx, user, team, true)
	if r == support.Unplaced {
		return support.Customer // no answer in time: fail closed
	}
	return r
}

// RoleNow implements support.Directory: never a call to Slack (the record
// step, before an ack).
func (d *Directory) RoleNow(user, team string) support.Role {
	return d.role(context.Background(), user, team, false)
}

func (d *Directory) role(ctx context.Context, user, team string, wait bool) support.Role {
	if user == "" {
		return support.Customer
	}
	if len(d.agents) > 0 || d.cfg.AgentGroup != "" {
		if d.agents[user] || d.cfg.AgentGroup != "" && d.groupMember(ctx, user, wait) {
			return support.Agent
		}
		return support.Customer
	}
	if team == "" {
		// A reaction or a file carries no team: an earlier event may have
		// said it.
		d.teamsMu.Lock()
		if e, ok := d.teams[user]; ok && d.Now().Sub(e.at) < 10*time.Minute {
			team = e.team
		}
		d.teamsMu.Unlock()
	}
	if team != "" && !d.ourTeam(team) {
		return support.Customer // another organisation: a Slack Connect customer
	}
	// Our team, or no team in the payload: who it is, and whether a guest,
	// is in users.info (cached).
	e, known := d.identity(ctx, user, wait)
	switch {
	case !known:
		return support.Unplaced
	case e.failed:
		// Slack could not say: the event's own team decides, and with none
		// the user is a customer.
		if d.ourTeam(team) {
			return support.Agent
		}
		return support.Customer
	case d.ourTeam(e.team) && !e.guest:
		return support.Agent
	}
	return support.Customer
}

// identity returns what users.info says of user (team, guest), cached ten
// minutes; one lookup per user at a time. Unless wait, it returns at once:
// known is false until the answer has landed (the record step leaves the
// message unacked, and Slack's redelivery finds it cached).
func (d *Directory) identity(ctx context.Context, user string, wait bool) (e teamEntry, known bool) {
	d.teamsMu.Lock()
	if e, ok := d.teams[user]; ok && e.full && (d.Now().Sub(e.at) < 10*time.Minute && !e.failed || d.Now().Sub(e.at) < time.Minute) {
		d.teamsMu.Unlock()
		return e, true
	}
	done, busy := d.looking[user]
	if !busy {
		done = make(chan struct{})
		d.looking[user] = done
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			d.lookupUser(ctx, user)
			d.teamsMu.Lock()
			delete(d.looking, user)
			d.teamsMu.Unlock()
			close(done)
		}()
	}
	d.teamsMu.Unlock()
	if !wait {
		return teamEntry{}, false
	}
	select {
	case <-done:
	case <-ctx.Done():
		return teamEntry{}, false
	case <-time.After(30 * time.Second):
		return teamEntry{}, false
	}
	d.teamsMu.Lock()
	defer d.teamsMu.Unlock()
	e, ok := d.teams[user]
	return e, ok && e.full
}

// lookupUser asks users.info about user and caches the answer.
func (d *Directory) lookupUser(ctx context.Context, user string) {
	var u *slack.User
	err := d.web.retry(ctx, "users.info", func() error {
		var err error
		u, err = d.web.api.GetUserInfoContext(ctx, user)
		return err
	})
	d.teamsMu.Lock()
	defer d.teamsMu.Unlock()
	if len(d.teams) > 10000 {
		d.teams = map[string]teamEntry{} // bound the cache
	}
	if err != nil {
		d.log.Warn("users.info failed; the event's team decides, and with none the user is a customer", "user", user, "error", err)
		d.teams[user] = teamEntry{at: d.Now(), full: true, failed: true}
		return
	}
	d.teams[user] = teamEntry{team: u.TeamID, at: d.Now(), full: true, guest: u.IsRestricted || u.IsUltraRestricted}
}

// remember notes the team an event gave for user: reactions carry none,
// and this is how the directory will know.
func (d *Directory) remember(user, team string) {
	d.teamsMu.Lock()
	defer d.teamsMu.Unlock()
	if e, ok := d.teams[user]; ok && e.full {
		return // users.info's answer (or its failure) says more: a guest
	}
	if len(d.teams) > 10000 {
		d.teams = map[string]teamEntry{} // bound the cache
	}
	d.teams[user] = teamEntry{team: team, at: d.Now()}
}

// ourTeam reports whether a team ID from an event is our own: our
// workspace, or (Enterprise Grid) our organisation's E… ID. Another E… ID is
// another organisation (Slack Connect).
func (d *Directory) ourTeam(team string) bool {
	if team == "" {
		return false
	}
	if s := d.self.Load(); s != nil && (team == s.team || s.enterprise != "" && team == s.enterprise) {
		return true
	}
	return slices.Contains(d.cfg.AgentTeams, team)
}

// groupMember reports whether user is in the agent group. The member list
// is cached for five minutes; usergroups.users.list is Tier 2 (about 20 calls
// a minute), so one caller refreshes it while the others use the list they
// have, and after a failure the next try waits (30 s, doubling to 10 min).
// The last good list is kept through failures; before the first one, nobody
// is a member (an unknown user is a customer). Unless wait, a refresh runs
// behind and the list at hand answers.
func (d *Directory) groupMember(ctx context.Context, user string, wait bool) bool {
	d.groupMu.Lock()
	now := d.Now()
	stale := d.groupMembers == nil || now.Sub(d.groupAt) > 5*time.Minute
	refresh := stale && !d.groupBusy && !now.Before(d.groupRetry)
	if refresh {
		d.groupBusy = true
	}
	members := d.groupMembers
	d.groupMu.Unlock()
	switch {
	case refresh && !wait:
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			d.refreshGroup(ctx)
		}()
	case refresh:
		members = d.refreshGroup(ctx)
	}
	return members[user]
}

// refreshGroup fetches the agent group's members (the caller has set
// groupBusy) and returns the list to use: the new one, or the last good one.
func (d *Directory) refreshGroup(ctx context.Context) map[string]bool {
	list, err := d.web.api.GetUserGroupMembersContext(ctx, d.cfg.AgentGroup)
	d.groupMu.Lock()
	defer d.groupMu.Unlock()
	d.groupBusy = false
	if err != nil {
		d.groupBackoff = min(max(2*d.groupBackoff, 30*time.Second), 10*time.Minute)
		var rl *slack.RateLimitedError
		if errors.As(err, &rl) {
			d.groupBackoff = max(d.groupBackoff, rl.RetryAfter)
		}
		d.groupRetry = d.Now().Add(d.groupBackoff)
		d.log.Warn("agent group unavailable; keeping the last list", "group", d.cfg.AgentGroup, "retry_in", d.groupBackoff, "error", err)
	} else {
		m := make(map[string]bool, len(list))
		for _, u := range list {
			m[u] = true
		}
		d.groupMembers, d.groupAt, d.groupBackoff, d.groupRetry = m, d.Now(), 0, time.Time{}
	}
	return d.groupMembers
}

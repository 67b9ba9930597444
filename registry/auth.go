package registry

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/supabase-go/realtime/actors"
	"github.com/supabase-go/realtime/internal/frame"
	"github.com/supabase-go/realtime/internal/jsonscan"
	"github.com/supabase-go/realtime/internal/wire"
	"github.com/supabase-go/realtime/messages"
)

// Token lifecycle (docs/protocol.md §8):
//   - every phx_join carries the channel's token, or the client's;
//   - the AccessToken callback runs before every connect (connection
//     actor) and before every rejoin (here, on a goroutine owned by the
//     registry, bounded by Timeout and the client's lifetime);
//   - the client's token is refreshed ahead of its exp and pushed to every
//     joined channel as an access_token message;
//   - a channel the server closed for its token ("Token has expired…")
//     fetches a fresh token and rejoins once; without a callback it stays
//     closed until SetAuth gives it a new token.

// refreshMargin is how long before exp the client's token is refreshed:
// a minute, or half the remaining lifetime when that is shorter.
const refreshMargin = time.Minute

// Refresh backoff: a refresh is never scheduled sooner than refreshFloor,
// and while the callback keeps returning the same or an expired token the
// delay doubles up to refreshCeiling, so a stale token cache cannot make
// the client spin.
const (
	refreshFloor   = 5 * time.Second
	refreshCeiling = 5 * time.Minute
)

type tokenFetched struct {
	gen   uint64
	token string
	err   error
}

type refreshDue struct{ gen uint64 }

type authState struct {
	fetching     bool
	fetchGen     uint64
	awaiting     map[string]bool // topics that join once a fresh token arrives
	refreshTimer actors.Timer
	refreshGen   uint64
	// stale counts consecutive refreshes that brought no usable token.
	stale int
	// fetches tracks the callback goroutines, waited for on Stopping.
	fetches sync.WaitGroup
	// refreshing wait for the fetch in flight (RefreshAuth); queued
	// arrived while a fetch they did not ask for was in flight, and get
	// a fetch of their own after it, so none is answered with a token
	// the callback produced before the call.
	refreshing, queued []chan<- error
}

func (a *authState) stop() {
	a.refreshGen = 0
	if a.refreshTimer != nil {
		a.refreshTimer.Stop()
		a.refreshTimer = nil
	}
}

// joinWithFreshToken joins ch after fetching a token from the callback, or
// at once when there is no callback.
func (r *reg) joinWithFreshToken(ch *channel) {
	if r.cfg.AccessToken == nil || ch.rec.Token != "" {
		r.join(ch)
		return
	}
	if r.auth.awaiting == nil {
		r.auth.awaiting = map[string]bool{}
	}
	r.auth.awaiting[ch.rec.Topic] = true
	r.fetchToken()
}

// fetchToken calls the AccessToken callback on a goroutine; the result
// comes back as tokenFetched. Only one call runs at a time.
func (r *reg) fetchToken() {
	if r.auth.fetching || r.cfg.AccessToken == nil {
		return
	}
	r.auth.fetching = true
	r.auth.fetchGen = r.cfg.Gens.Add(1)
	gen, cb, root, self := r.auth.fetchGen, r.cfg.AccessToken, r.root, r.self
	ctx, cancel := context.WithTimeout(r.cfg.Lifetime, r.cfg.Timeout)
	r.auth.fetches.Add(1)
	go func() {
		defer r.auth.fetches.Done()
		defer cancel()
		token, err := cb(ctx)
		root.Send(self, &tokenFetched{gen: gen, token: token, err: err})
	}()
}

func (r *reg) tokenFetched(m *tokenFetched) {
	if m.gen != r.auth.fetchGen {
		return
	}
	r.auth.fetching = false
	awaiting := r.auth.awaiting
	r.auth.awaiting = nil
	usable := false
	var ferr error
	switch {
	case m.err != nil:
		ferr = fmt.Errorf("realtime: access token callback: %w", m.err)
		r.deliver(nil, messages.ErrorEvent{Err: ferr})
	case m.token == "":
	default:
		usable = m.token != r.cfg.Token.Get()
		if exp, ok := wire.TokenExpiry(m.token); ok && !exp.After(r.cfg.Clock.Now()) {
			usable = false
			ferr = fmt.Errorf("realtime: the access token callback returned a token that expired at %s: %w", exp.UTC().Format(time.RFC3339), messages.ErrAuth)
			r.deliver(nil, messages.ErrorEvent{Err: ferr})
		}
		r.cfg.Redact.Add(m.token)
		// An expired token is neither kept nor pushed (as realtime-js
		// refuses one before sending it): the server would only refuse
		// it, and the previous token may still be good.
		if ferr == nil && m.token != r.cfg.Token.Get() {
			r.cfg.Token.Set(m.token)
			r.tokenChanged()
		}
	}
	if usable {
		r.auth.stale = 0
	} else {
		r.auth.stale++
	}
	r.scheduleRefresh()
	for _, ch := range r.ordered() {
		if !awaiting[ch.rec.Topic] {
			continue
		}
		if ch.rec.Wanted && r.open && ch.rec.State != messages.ChannelJoined && ch.rec.State != messages.ChannelLeaving {
			r.join(ch)
		}
	}
	r.refreshed(ferr)
}

// refreshAuth pulls a fresh token from the callback for RefreshAuth, as
// realtime-js setAuth() without a token does; tokenFetched applies it
// (pushes it to every joined channel using the client's token, unblocks
// channels an auth error closed) and answers.
func (r *reg) refreshAuth(m *messages.RefreshAuth) {
	if r.cfg.AccessToken == nil {
		actors.Reply(m.Reply, messages.ErrNoTokenCallback)
		return
	}
	if r.auth.fetching {
		r.auth.queued = append(r.auth.queued, m.Reply)
		return
	}
	r.auth.refreshing = append(r.auth.refreshing, m.Reply)
	r.fetchToken()
}

// refreshed answers the RefreshAuth calls that waited for the fetch that
// just ended, and starts the fetch the queued ones wait for.
func (r *reg) refreshed(err error) {
	for _, w := range r.auth.refreshing {
		actors.Reply(w, err)
	}
	r.auth.refreshing, r.auth.queued = r.auth.queued, nil
	if len(r.auth.refreshing) > 0 {
		r.fetchToken()
	}
}

// abortRefreshes answers every RefreshAuth call still waiting with err.
func (r *reg) abortRefreshes(err error) {
	for _, w := range r.auth.refreshing {
		actors.Reply(w, err)
	}
	for _, w := range r.auth.queued {
		actors.Reply(w, err)
	}
	r.auth.refreshing, r.auth.queued = nil, nil
}

func (r *reg) setAuth(m *messages.SetAuth) {
	if m.Topic == "" {
		r.applyClientToken(m.Token)
		actors.Reply(m.Reply, nil)
		return
	}
	ch := r.channels[m.Topic]
	if ch == nil {
		actors.Reply(m.Reply, messages.ErrUnknownChannel)
		return
	}
	r.cfg.Redact.Add(m.Token)
	ch.rec.Token = m.Token
	r.persist(ch)
	r.pushToken(ch)
	r.unblock(ch)
	actors.Reply(m.Reply, nil)
}

// applyClientToken makes token the client's token (SetAuth): later joins
// use it, joined channels that use the client's token get it pushed,
// channels blocked by an auth error rejoin, and a refresh is scheduled
// before its exp. A token set while disconnected is simply kept for the
// next join.
func (r *reg) applyClientToken(token string) {
	changed := token != r.cfg.Token.Get()
	r.cfg.Redact.Add(token)
	r.cfg.Token.Set(token)
	r.auth.stale = 0
	if changed {
		r.tokenChanged()
	}
	r.scheduleRefresh()
}

// tokenChanged pushes the client's new token to the channels that use it
// and unblocks those an auth error closed.
func (r *reg) tokenChanged() {
	for _, ch := range r.ordered() {
		if ch.rec.Token != "" {
			continue
		}
		r.pushToken(ch)
		r.unblock(ch)
	}
}

// pushToken sends access_token to a joined channel whose token changed.
func (r *reg) pushToken(ch *channel) {
	token := r.tokenFor(ch)
	if !r.open || ch.rec.State != messages.ChannelJoined || token == "" || token == ch.sentToken {
		return
	}
	ch.sentToken = token
	payload := jsonscan.AppendQuote([]byte(`{"access_token":`), token)
	payload = append(payload, '}')
	r.send(frame.Frame{JoinRef: ch.rec.JoinRef, Ref: r.cfg.Refs.Next(), Topic: ch.rec.Topic, Event: "access_token", Payload: payload})
}

// unblock rejoins a channel that waits for a new token after an auth
// error.
func (r *reg) unblock(ch *channel) {
	if !ch.rec.AuthBlocked {
		return
	}
	ch.rec.AuthBlocked = false
	ch.authRetried = false
	r.persist(ch)
	if ch.rec.Wanted && r.open {
		r.join(ch)
	}
}

// scheduleRefresh arms the proactive refresh of the client's token.
func (r *reg) scheduleRefresh() {
	r.auth.stop()
	if r.cfg.AccessToken == nil {
		return
	}
	exp, ok := wire.TokenExpiry(r.cfg.Token.Get())
	if !ok {
		return
	}
	left := exp.Sub(r.cfg.Clock.Now())
	margin := refreshMargin
	if left/2 < margin {
		margin = left / 2
	}
	d := left - margin
	if d < refreshFloor {
		d = refreshFloor
	}
	if r.auth.stale > 0 {
		backoff := refreshFloor << min(r.auth.stale, 10)
		if backoff > refreshCeiling {
			backoff = refreshCeiling
		}
		if d < backoff {
			d = backoff
		}
	}
	r.auth.refreshGen = r.cfg.Gens.Add(1)
	gen, root, self := r.auth.refreshGen, r.root, r.self
	r.auth.refreshTimer = r.cfg.Clock.AfterFunc(d, func() { root.Send(self, &refreshDue{gen: gen}) })
}

func (r *reg) refreshDue(m *refreshDue) {
	if m.gen == 0 || m.gen != r.auth.refreshGen {
		return
	}
	r.auth.refreshTimer = nil
	r.fetchToken()
}

// authFailed handles a channel the server refused for its token. With a
// callback the channel fetches a fresh token and rejoins (once after a
// server close); without one it stays closed until SetAuth.
func (r *reg) authFailed(ch *channel, err *messages.AuthError, status messages.SubscribeStatus) {
	if r.cfg.AccessToken != nil && ch.rec.Token == "" && !ch.authRetried {
		ch.authRetried = true
		r.setState(ch, messages.ChannelErrored, status, err)
		r.resolve(ch, messages.SubscribeResult{Status: status, Err: err})
		r.joinWithFreshToken(ch)
		return
	}
	ch.rec.AuthBlocked = true
	r.discard(ch, err)
	r.setState(ch, messages.ChannelClosed, status, err)
	r.resolve(ch, messages.SubscribeResult{Status: status, Err: err})
}

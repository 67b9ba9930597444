package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	realtime "github.com/supabase-go/realtime"
)

// session is one network command's client and its Handler. It turns
// connection and channel events into lines a person can act on (stderr),
// hands data events to the command (onData), and reports the failures that
// end a command on fatal:
//   - the server refusing the connection (HTTP 4xx on the upgrade: a wrong
//     key or URL), which retrying cannot fix;
//   - --max-attempts consecutive failed connection attempts;
//   - the server refusing a postgres_changes binding before it confirmed
//     it (unknown column, table not in the publication…);
//   - the server closing a channel (phx_close), which is never rejoined.
//
// HandleEvent runs on the client's Dispatcher goroutine (see the
// realtime.Handler contract); the command's goroutine reads the state
// under mu.
type session struct {
	cfg    *conn
	p      *printer
	onData func(realtime.Event)
	client *realtime.Client
	start  time.Time
	fatal  chan error
	quiet  bool // no connection lines (broadcast --http needs no socket)

	mu        sync.Mutex
	everOpen  bool
	open      bool
	failures  int    // consecutive failed attempts
	lastCause string // the last connection failure, for summaries
	pgPending map[string]bool
	events    int // data events delivered
}

func newSession(cfg *conn, p *printer, onData func(realtime.Event)) *session {
	return &session{cfg: cfg, p: p, onData: onData, start: time.Now(), fatal: make(chan error, 1), pgPending: map[string]bool{}}
}

// connect starts the client. It connects in the background; the state lines
// follow on stderr.
func (s *session) connect() error {
	if !s.quiet {
		s.p.status("connecting to %s", displayURL(s.cfg.url))
	}
	c, err := realtime.New(s.cfg.url, s.cfg.key, s.cfg.options(s)...)
	if err != nil {
		return &usageError{err}
	}
	s.client = c
	if s.cfg.token != "" {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.timeout)
		defer cancel()
		if err := c.SetAuth(ctx, s.cfg.token); err != nil {
			return fmt.Errorf("--token: %w", err)
		}
	}
	return nil
}

// close leaves the channels when the socket is open (a dead socket cannot
// carry the leaves: waiting for them would only delay the exit), then
// closes the client.
func (s *session) close() {
	if s.client == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.timeout)
	defer cancel()
	if s.client.ConnectionState() == realtime.ConnOpen {
		_ = s.client.RemoveAllChannels(ctx)
	}
	_ = s.client.Close(ctx)
}

func (s *session) fail(err error) {
	select {
	case s.fatal <- err:
	default:
	}
}

// expectPostgres marks a channel whose postgres_changes bindings the
// server has yet to confirm: an error before the confirmation is fatal.
func (s *session) expectPostgres(channel string) {
	s.mu.Lock()
	s.pgPending[channel] = true
	s.mu.Unlock()
}

// HandleEvent implements realtime.Handler.
func (s *session) HandleEvent(_ context.Context, ev realtime.Event) {
	switch e := ev.(type) {
	case realtime.ConnectionStateEvent:
		s.connectionEvent(e)
	case realtime.ChannelStatusEvent:
		switch {
		case e.Status == realtime.Closed:
			// The server closed the channel (phx_close): the client does
			// not rejoin it, so nothing more would arrive.
			why := ""
			if e.Err != nil {
				why = ": " + clean(e.Err)
			}
			s.fail(fmt.Errorf("channel %s was closed by the server%s; nothing more arrives on it", e.Channel, why))
		case e.Status == "":
		case e.Err != nil:
			s.p.status("channel %s %s: %s", e.Channel, e.Status, clean(e.Err))
		case !e.MissedSince.IsZero():
			s.p.status("channel %s %s again; events since %s were missed", e.Channel, e.Status, e.MissedSince.Format(time.RFC3339))
		default:
			s.p.status("channel %s %s", e.Channel, e.Status)
		}
	case realtime.SystemEvent:
		s.mu.Lock()
		pending := s.pgPending[e.Channel] && e.Extension == "postgres_changes"
		if pending {
			delete(s.pgPending, e.Channel)
		}
		s.mu.Unlock()
		if pending && e.Status == "error" {
			s.fail(fmt.Errorf("channel %s: the server refused the postgres changes binding: %s", e.Channel, e.Message))
			return
		}
		s.p.status("channel %s %s: %s", e.Channel, e.Extension, e.Message)
	case realtime.ErrorEvent:
		if e.Channel != "" {
			s.p.status("channel %s error: %s", e.Channel, clean(e.Err))
		} else {
			s.p.status("error: %s", clean(e.Err))
		}
	default:
		s.mu.Lock()
		s.events++
		s.mu.Unlock()
		if s.onData != nil {
			s.onData(ev)
		}
	}
}

// connectionEvent prints a connection change: the cause of every failure
// at once, the attempt number and when the next attempt comes.
func (s *session) connectionEvent(e realtime.ConnectionStateEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.New {
	case realtime.ConnOpen:
		switch {
		case s.quiet:
		case s.failures > 0:
			s.p.status("connected after %d failed %s", s.failures, plural(s.failures, "attempt"))
		default:
			s.p.status("connected")
		}
		s.everOpen, s.open, s.failures = true, true, 0
	case realtime.ConnClosed:
		if e.Err == nil {
			s.open = false
			return // a requested close
		}
		wasOpen := s.open
		s.open = false
		s.failures = e.Attempt
		cause := failureCause(e.Err)
		s.lastCause = cause
		if err := s.fatalConnection(e.Err); err != nil {
			s.fail(err)
			return
		}
		if s.quiet {
			return
		}
		what := fmt.Sprintf("connection attempt %d failed", e.Attempt)
		if wasOpen {
			what = "connection lost"
		}
		limit := ""
		if m := s.cfg.maxAttempts; m > 0 {
			limit = fmt.Sprintf(" (%d of %d)", e.Attempt+1, m)
		}
		s.p.status("%s: %s; next attempt%s in %v", what, cause, limit, e.RetryIn.Round(100*time.Millisecond))
	}
}

// fatalConnection returns the error that ends the command for a
// connection failure that retrying will not fix (a refused upgrade) or that
// exhausted --max-attempts, and nil for one that is retried.
func (s *session) fatalConnection(err error) error {
	switch {
	case refused(err):
		return fmt.Errorf("the server refused the connection: %s", failureCause(err))
	case errors.Is(err, realtime.ErrReconnectLimit):
		n := s.cfg.maxAttempts
		return fmt.Errorf("giving up after %d failed connection %s (--max-attempts %d; 0 retries forever): %s",
			n, plural(n, "attempt"), n, failureCause(err))
	}
	return nil
}

// summary describes the connection for the line printed on Ctrl-C.
func (s *session) connectionSummary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.everOpen:
		return ""
	case s.lastCause != "":
		return fmt.Sprintf("never connected (last error: %s)", s.lastCause)
	default:
		return "never connected"
	}
}

func (s *session) eventCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events
}

func (s *session) elapsed() time.Duration { return time.Since(s.start).Round(100 * time.Millisecond) }

// errInterrupted ends a command the user stopped (Ctrl-C, SIGTERM).
var errInterrupted = errors.New("interrupted")

// subscribe joins ch and waits for the first outcome. retry says whether
// the command retries forever: a join that timed out then goes on in the
// background instead of failing the command. A fatal session error ends
// the wait; so does ctx (errInterrupted).
func (s *session) subscribe(ctx context.Context, ch *realtime.Channel, retry bool) error {
	type result struct {
		status realtime.SubscribeStatus
		err    error
	}
	done := make(chan result, 1)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		st, err := s.client.Subscribe(sctx, ch)
		done <- result{st, err}
	}()
	select {
	case r := <-done:
		switch {
		case r.err == nil:
			return nil
		case ctx.Err() != nil:
			return errInterrupted
		case s.fatalConnection(r.err) != nil:
			return s.fatalConnection(r.err)
		case r.status == realtime.TimedOut && retry:
			s.p.status("channel %s: no answer to the join within %v; retrying", ch.Name(), s.cfg.timeout)
			return nil
		case r.status == realtime.TimedOut:
			return fmt.Errorf("channel %s: no answer to the join within %v (--timeout)", ch.Name(), s.cfg.timeout)
		case r.status == realtime.ChannelError:
			reason := clean(r.err)
			var d *realtime.ChannelErrorDetail
			if errors.As(r.err, &d) && d.Reason != "" {
				reason = d.Reason
			}
			return fmt.Errorf("channel %s: the server refused the join: %s", ch.Name(), reason)
		}
		return fmt.Errorf("channel %s: %s", ch.Name(), clean(r.err))
	case err := <-s.fatal:
		cancel()
		<-done
		return err
	}
}

// wait blocks until ctx ends (nil) or a fatal error comes.
func (s *session) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-s.fatal:
		return err
	}
}

// refused reports a connection the server refused with a 4xx other than
// 408 and 429: a wrong key, URL or token, which no retry fixes.
func refused(err error) bool {
	var ce *realtime.ConnectError
	if !errors.As(err, &ce) {
		return false
	}
	return ce.StatusCode >= 400 && ce.StatusCode < 500 &&
		ce.StatusCode != http.StatusRequestTimeout && ce.StatusCode != http.StatusTooManyRequests
}

// failureCause is the part of a connection error a person acts on: the
// HTTP status and message of a refused upgrade, or the network error
// ("dial tcp 127.0.0.1:4000: connect: connection refused"), without the
// socket URL, which the "connecting to" line already showed.
func failureCause(err error) string {
	var ce *realtime.ConnectError
	if errors.As(err, &ce) {
		switch {
		case ce.StatusCode != 0 && ce.Message != "":
			return fmt.Sprintf("HTTP %d: %s", ce.StatusCode, ce.Message)
		case ce.StatusCode != 0:
			return fmt.Sprintf("HTTP %d", ce.StatusCode)
		case ce.Err != nil:
			return clean(ce.Err)
		}
	}
	var cl *realtime.CloseError
	if errors.As(err, &cl) {
		return clean(cl)
	}
	if errors.Is(err, realtime.ErrReconnectLimit) {
		// errors.Join(ErrReconnectLimit, cause): the cause is the rest.
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				if !errors.Is(e, realtime.ErrReconnectLimit) {
					return failureCause(e)
				}
			}
		}
	}
	return clean(err)
}

// displayURL is the URL without the parts that may carry a secret: the
// query (apikey=…) and the user info.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the URL given"
	}
	u.RawQuery, u.User, u.Fragment = "", nil, ""
	return u.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

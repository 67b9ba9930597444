package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	realtime "github.com/supabase-go/realtime"
)

// printer writes data events to stdout (human lines or one JSON object per
// line) and status lines to stderr, one line at a time.
type printer struct {
	mu     sync.Mutex
	stdout io.Writer
	stderr io.Writer
	json   bool
}

func (p *printer) status(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.stderr, format+"\n", args...)
}

// logWriter writes to stderr under the printer's lock, so that log
// records (--debug) and status lines never interleave.
type logWriter struct{ p *printer }

func (w logWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.stderr.Write(b)
}

// event prints a data event: broadcast, presence or postgres change.
func (p *printer) event(ev realtime.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		out, err := json.Marshal(eventJSON(ev))
		if err == nil {
			fmt.Fprintln(p.stdout, string(out))
		}
		return
	}
	fmt.Fprintln(p.stdout, eventLine(ev))
}

// eventJSON is the --json form of a data event.
func eventJSON(ev realtime.Event) map[string]any {
	switch e := ev.(type) {
	case realtime.BroadcastEvent:
		m := map[string]any{"type": "broadcast", "channel": e.Channel, "event": e.Event}
		if e.Binary != nil {
			m["binary"] = e.Binary
		} else {
			m["payload"] = json.RawMessage(orNull(e.Payload))
		}
		if e.Meta != nil {
			m["meta"] = json.RawMessage(e.Meta)
		}
		return m
	case realtime.PresenceEvent:
		m := map[string]any{"type": "presence", "channel": e.Channel, "event": string(e.Type)}
		if e.Key != "" {
			m["key"] = e.Key
		}
		if e.Joined != nil {
			m["joined"] = metas(e.Joined)
		}
		if e.Left != nil {
			m["left"] = metas(e.Left)
		}
		return m
	case realtime.ChangeEvent:
		m := map[string]any{"type": "postgres_changes", "channel": e.Channel, "event": string(e.Type),
			"schema": e.Schema, "table": e.Table, "commit_timestamp": e.CommitTimestamp.Format(time.RFC3339Nano)}
		if e.Record != nil {
			m["record"] = json.RawMessage(e.Record)
		}
		if e.OldRecord != nil {
			m["old_record"] = json.RawMessage(e.OldRecord)
		}
		if len(e.Errors) > 0 {
			m["errors"] = e.Errors
		}
		return m
	}
	return map[string]any{"type": fmt.Sprintf("%T", ev)}
}

func metas(ms []realtime.PresenceMeta) []map[string]any {
	out := make([]map[string]any, 0, len(ms))
	for _, m := range ms {
		out = append(out, map[string]any{"presence_ref": m.Ref, "payload": json.RawMessage(orNull(m.Payload))})
	}
	return out
}

func orNull(b []byte) []byte {
	if b == nil {
		return []byte("null")
	}
	return b
}

// eventLine is the human form of a data event.
func eventLine(ev realtime.Event) string {
	switch e := ev.(type) {
	case realtime.BroadcastEvent:
		if e.Binary != nil {
			return fmt.Sprintf("%s broadcast %s <%d bytes>", e.Channel, e.Event, len(e.Binary))
		}
		return fmt.Sprintf("%s broadcast %s %s", e.Channel, e.Event, e.Payload)
	case realtime.PresenceEvent:
		switch e.Type {
		case realtime.PresenceJoin:
			return fmt.Sprintf("%s presence join %s %s", e.Channel, e.Key, metaPayloads(e.Joined))
		case realtime.PresenceLeave:
			return fmt.Sprintf("%s presence leave %s %s", e.Channel, e.Key, metaPayloads(e.Left))
		}
		return fmt.Sprintf("%s presence sync", e.Channel)
	case realtime.ChangeEvent:
		switch e.Type {
		case realtime.PostgresDelete:
			return fmt.Sprintf("%s postgres %s %s.%s old=%s", e.Channel, e.Type, e.Schema, e.Table, e.OldRecord)
		case realtime.PostgresUpdate:
			return fmt.Sprintf("%s postgres %s %s.%s %s old=%s", e.Channel, e.Type, e.Schema, e.Table, e.Record, e.OldRecord)
		}
		return fmt.Sprintf("%s postgres %s %s.%s %s", e.Channel, e.Type, e.Schema, e.Table, e.Record)
	}
	return fmt.Sprintf("%T", ev)
}

func metaPayloads(ms []realtime.PresenceMeta) string {
	s := "["
	for i, m := range ms {
		if i > 0 {
			s += ","
		}
		s += string(orNull(m.Payload))
	}
	return s + "]"
}

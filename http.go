package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/supabase-go/realtime/internal/redact"
	"github.com/supabase-go/realtime/messages"
)

// HTTPSend sends one broadcast over HTTP, without the socket, to the
// single-event endpoint POST …/api/broadcast/{topic}/events/{event}
// (?private=true on private channels; server ≥ v2.97.0). payload is sent
// as application/json, or as application/octet-stream when it is a
// []byte. The channel does not need to be subscribed. It returns nil on
// 202 Accepted and a *HTTPError with the server's message otherwise (a 404
// means the server is older than v2.97.0).
func (c *Client) HTTPSend(ctx context.Context, ch *Channel, event string, payload any) error {
	if err := c.own(ch); err != nil {
		return err
	}
	if event == "" {
		return invalid("event", "must not be empty")
	}
	body, ctype := []byte(nil), "application/octet-stream"
	if b, ok := payload.([]byte); ok {
		body = b
	} else {
		raw, err := encodeJSON(payload)
		if err != nil {
			return err
		}
		body, ctype = raw, "application/json"
	}
	u := c.httpURL("/api/broadcast/" + url.PathEscape(ch.name) + "/events/" + url.PathEscape(event))
	if c.private(ch) {
		u = addQuery(u, "private", "true")
	}
	return c.post(ctx, ch, u, ctype, body)
}

// httpBatch sends one broadcast to the batch endpoint POST …/api/broadcast,
// as realtime-js does when it cannot push on the socket.
func (c *Client) httpBatch(ctx context.Context, ch *Channel, event string, payload any) error {
	if event == "" {
		return invalid("event", "must not be empty")
	}
	if _, binary := payload.([]byte); binary {
		return c.HTTPSend(ctx, ch, event, payload)
	}
	raw, err := encodeJSON(payload)
	if err != nil {
		return err
	}
	msg := struct {
		Topic   string          `json:"topic"`
		Event   string          `json:"event"`
		Payload json.RawMessage `json:"payload"`
		Private bool            `json:"private"`
	}{ch.name, event, raw, c.private(ch)}
	body, err := json.Marshal(map[string]any{"messages": []any{msg}})
	if err != nil {
		return &messages.OptionError{Option: "payload", Reason: err.Error()}
	}
	return c.post(ctx, ch, c.httpURL("/api/broadcast"), "application/json", body)
}

func (c *Client) post(ctx context.Context, ch *Channel, u, ctype string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("realtime: HTTP broadcast: %w", err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("apikey", c.apiKey)
	if token := c.bearer(ch); token != "" {
		// As realtime-js: Authorization only with a user token; the
		// server falls back to the apikey header.
		req.Header.Set("Authorization", "Bearer "+token)
	}
	// Never follow a redirect: it would carry the apikey header (which
	// net/http forwards to any host) and the bearer token to wherever the
	// server points, possibly over plain http. A 3xx is an *HTTPError.
	hc := *c.httpClient()
	hc.CheckRedirect = refuseRedirect
	resp, err := hc.Do(req)
	if err != nil {
		// A *url.Error repeats the URL, unredacted: keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("realtime: HTTP broadcast to %s: %w", redact.RedactURL(u), redactErr(err, c.redact))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	// A server (or proxy) may echo the key or token back: redact before
	// the message is cut to length, so no part of a secret survives.
	clean := c.redact.Bytes(data)
	return &messages.HTTPError{StatusCode: resp.StatusCode, Message: httpMessage(clean)}
}

// refuseRedirect makes the client return a redirect response as it is.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func (c *Client) httpClient() *http.Client {
	if c.opts.httpClient != nil {
		return c.opts.httpClient
	}
	return http.DefaultClient
}

// httpURL derives an HTTP endpoint from the socket URL the way realtime-js
// does: ws(s)→http(s), strip the trailing /socket/websocket, /socket or
// /websocket, append path; the query string (apikey, vsn) is kept.
func (c *Client) httpURL(path string) string {
	u, _ := url.Parse(c.url) // validated in New
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	p := strings.TrimRight(u.Path, "/")
	for _, suffix := range []string{"/socket/websocket", "/socket", "/websocket"} {
		if strings.HasSuffix(p, suffix) {
			p = strings.TrimSuffix(p, suffix)
			break
		}
	}
	u.RawPath = ""
	u.Path = p + path
	if strings.Contains(path, "%") {
		// Keep escaped path segments (room%3A42) as they are.
		u.RawPath = p + path
		if unescaped, err := url.PathUnescape(u.RawPath); err == nil {
			u.Path = unescaped
		}
	}
	return u.String()
}

func addQuery(raw, k, v string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

// bearer is the user token HTTP broadcasts are authorized with: the
// channel's, else the client's ("" when there is none).
func (c *Client) bearer(ch *Channel) string {
	if r, ok := c.st.Table.Get(ch.topic); ok && r.Token != "" {
		return r.Token
	}
	return c.st.Token.Get()
}

// private reports whether ch is private: from its record (Channel creates
// it before returning), or, once the channel was removed, from the options
// the handle was made with.
func (c *Client) private(ch *Channel) bool {
	if r, ok := c.st.Table.Get(ch.topic); ok {
		return r.Config.Private
	}
	return ch.private
}

func httpMessage(body []byte) string {
	var m struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(body, &m) == nil {
		if m.Message != "" {
			return m.Message
		}
		if m.Error != "" {
			return m.Error
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// redactErr is err's text with the client's secrets (the Redactor knows
// the API key and every token the client has held) removed.
func redactErr(err error, red *redact.Redactor) error {
	return fmt.Errorf("%s", red.String(err.Error()))
}

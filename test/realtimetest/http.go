package realtimetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/supabase-go/realtime/internal/frame"
)

// HTTP broadcast API paths (§5.6). The gateway paths are what clients use
// behind the Supabase API gateway; the others are the Realtime server's
// own. The single-event paths take "/{topic}/events/{event}" after them.
const (
	BroadcastPath        = "/api/broadcast"
	GatewayBroadcastPath = "/realtime/v1/api/broadcast"
)

// HTTP API response bodies (§5.6).
const (
	BodyUnauthorized      = `{"message":"Unauthorized"}`
	BodyRateLimited       = `{"message":"You have exceeded your rate limit"}`
	BodyBatchTooLarge     = `{"message":"Too many messages to broadcast, please reduce the batch size"}`
	BodyUnsupportedMedia  = `{"error":"Unsupported Media Type. Use application/json or application/octet-stream"}`
	BodyPayloadTooLarge   = `{"errors":{"payload":["Payload size exceeds tenant limit"]}}`
	msgCantBeBlank        = "can't be blank"
	msgIsInvalid          = "is invalid"
	msgPayloadExceedsSize = "Payload size exceeds tenant limit"
	maxHTTPBodyBytes      = 8_000_000
)

// HTTPRequest records one request to the HTTP broadcast API.
type HTTPRequest struct {
	Method string
	// Path is the request path, e.g. "/realtime/v1/api/broadcast".
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	// Status is the HTTP status answered.
	Status int
}

// httpScript is a scripted answer set by SetHTTPStatus.
type httpScript struct {
	status    int
	body      string
	remaining int // <= 0: until cleared
}

// SetHTTPStatus makes the next n requests to the HTTP broadcast API (any
// path, after the CORS preflight) be answered with status and body
// (Content-Type application/json when body is not empty) without being
// processed; n <= 0 scripts every request until SetHTTPStatus(0, "", 0)
// clears it. For example SetHTTPStatus(429, BodyRateLimited, 1).
func (s *Server) SetHTTPStatus(status int, body string, n int) {
	s.ext.httpMu.Lock()
	defer s.ext.httpMu.Unlock()
	if status == 0 {
		s.ext.httpScript = nil
		return
	}
	s.ext.httpScript = &httpScript{status: status, body: body, remaining: n}
}

// HTTPRequests returns every request made to the HTTP broadcast API, in
// order.
func (s *Server) HTTPRequests() []HTTPRequest {
	s.ext.httpMu.Lock()
	defer s.ext.httpMu.Unlock()
	out := make([]HTTPRequest, len(s.ext.httpLog))
	for i, r := range s.ext.httpLog {
		r.Query = cloneValues(r.Query)
		r.Header = r.Header.Clone()
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// BroadcastURL returns the batch endpoint behind the gateway,
// "http://127.0.0.1:<port>/realtime/v1/api/broadcast".
func (s *Server) BroadcastURL() string { return s.URL() + GatewayBroadcastPath }

// registerHTTP adds the HTTP broadcast API to mux.
func (s *Server) registerHTTP(mux *http.ServeMux) {
	for _, base := range []string{BroadcastPath, GatewayBroadcastPath} {
		mux.HandleFunc(base, s.httpHandler(s.serveBatch))
		mux.HandleFunc(base+"/{topic}/events/{event}", s.httpHandler(s.serveSingle))
	}
}

// statusRecorder captures the status written by a handler.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

// httpHandler wraps an API handler: goroutine accounting, request
// recording, CORS, scripted answers and authentication.
func (s *Server) httpHandler(h func(w http.ResponseWriter, r *http.Request, body []byte, claims map[string]any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.enter() {
			http.Error(w, "server closed", http.StatusServiceUnavailable)
			return
		}
		defer s.wg.Done()
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxHTTPBodyBytes))
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			s.ext.httpMu.Lock()
			s.ext.httpLog = append(s.ext.httpLog, HTTPRequest{
				Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
				Header: r.Header.Clone(), Body: body, Status: rec.status,
			})
			s.ext.httpMu.Unlock()
			s.log.Debug("realtimetest: http", "method", r.Method, "path", r.URL.Path, "status", rec.status)
		}()

		// CORS is open on the real server.
		hdr := rec.Header()
		hdr.Set("Access-Control-Allow-Origin", "*")
		switch r.Method {
		case http.MethodOptions:
			hdr.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
			hdr.Set("Access-Control-Allow-Headers", "authorization, apikey, content-type, x-client-info")
			rec.WriteHeader(http.StatusNoContent)
			return
		case http.MethodPost:
		default:
			writeJSON(rec, http.StatusNotFound, `{"errors":{"detail":"Not Found"}}`)
			return
		}

		if sc, ok := s.takeHTTPScript(); ok {
			writeJSON(rec, sc.status, sc.body)
			return
		}
		claims, ok := s.authenticateHTTP(r)
		if !ok {
			writeJSON(rec, http.StatusUnauthorized, BodyUnauthorized)
			return
		}
		h(rec, r, body, claims)
	}
}

// takeHTTPScript consumes one scripted answer, if any.
func (s *Server) takeHTTPScript() (httpScript, bool) {
	s.ext.httpMu.Lock()
	defer s.ext.httpMu.Unlock()
	sc := s.ext.httpScript
	if sc == nil {
		return httpScript{}, false
	}
	out := *sc
	if sc.remaining > 0 {
		sc.remaining--
		if sc.remaining == 0 {
			s.ext.httpScript = nil
		}
	}
	return out, true
}

// authenticateHTTP checks the request token (§5.6): "Authorization:
// Bearer <jwt>" wins over the "apikey" header. With Options.JWTSecret it
// must verify and carry role and exp; else, with Options.APIKey, the token
// or the apikey header must equal the key. It returns the token's claims
// (unverified without JWTSecret).
func (s *Server) authenticateHTTP(r *http.Request) (map[string]any, bool) {
	var token string
	if auth := r.Header.Get("Authorization"); auth != "" {
		if scheme, tok, ok := strings.Cut(auth, " "); ok && strings.EqualFold(scheme, "bearer") {
			token = tok
		}
	}
	apikey := r.Header.Get("apikey")
	if token == "" {
		token = apikey
	}
	switch {
	case s.opts.JWTSecret != "":
		if token == "" {
			return nil, false
		}
		vt, terr := verifyJWT(token, s.opts.JWTSecret, s.now(), false)
		if terr != nil {
			return nil, false
		}
		return vt.claims, true
	case s.opts.APIKey != "":
		if token != s.opts.APIKey && apikey != s.opts.APIKey {
			return nil, false
		}
	}
	return peekClaims(token), true
}

// httpLimited applies Options.HTTPRateLimit (requests per second).
func (s *Server) httpLimited() bool {
	if s.opts.HTTPRateLimit <= 0 {
		return false
	}
	return s.ext.httpReqs.add(s.now(), time.Second, 1) > s.opts.HTTPRateLimit
}

// writeJSON answers status with a JSON body ("" = empty body).
func writeJSON(w http.ResponseWriter, status int, body string) {
	if body != "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	if body != "" {
		_, _ = io.WriteString(w, body)
	}
}

// batchMessage is one validated message of a batch.
type batchMessage struct {
	topic, event, id string
	payload          json.RawMessage
	private          bool
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// serveBatch implements POST /api/broadcast (§5.6 a).
func (s *Server) serveBatch(w http.ResponseWriter, r *http.Request, body []byte, claims map[string]any) {
	var params map[string]json.RawMessage
	if isJSONContent(r) && len(bytes.TrimSpace(body)) > 0 {
		var v any
		if json.Unmarshal(body, &v) != nil {
			writeJSON(w, http.StatusBadRequest, `{"errors":{"detail":"Bad Request"}}`)
			return
		}
		params = objectFields(body) // nil for a non-object body (Plug's "_json")
	}
	rawMsgs, ok := params["messages"]
	if !ok || isNull(rawMsgs) {
		writeJSON(w, http.StatusUnprocessableEntity, `{"errors":{"messages":["can't be blank"]}}`)
		return
	}
	var elems []json.RawMessage
	if json.Unmarshal(rawMsgs, &elems) != nil {
		writeJSON(w, http.StatusUnprocessableEntity, `{"errors":{"messages":["is invalid"]}}`)
		return
	}
	msgs := make([]batchMessage, len(elems))
	errs := make([]map[string][]string, len(elems))
	invalid := false
	for i, e := range elems {
		fields := objectFields(e)
		if fields == nil {
			writeJSON(w, http.StatusUnprocessableEntity, `{"errors":{"messages":["is invalid"]}}`)
			return
		}
		m, fe := s.validateBatchMessage(fields)
		msgs[i], errs[i] = m, fe
		if len(fe) > 0 {
			invalid = true
		}
	}
	if invalid {
		out, _ := json.Marshal(map[string]any{"errors": map[string]any{"messages": errs}})
		writeJSON(w, http.StatusUnprocessableEntity, string(out))
		return
	}
	if limit := s.opts.MaxEventsPerSecond; limit > 0 {
		eps := s.eventsPerSecond()
		switch {
		case s.eventsTriggered():
			writeJSON(w, http.StatusTooManyRequests, BodyRateLimited)
			return
		case eps+len(msgs) > limit:
			writeJSON(w, http.StatusTooManyRequests, BodyBatchTooLarge)
			return
		}
	}
	if s.httpLimited() {
		writeJSON(w, http.StatusTooManyRequests, BodyRateLimited)
		return
	}

	allowed := map[string]bool{} // private topics, authorized once per request
	for _, m := range msgs {
		if m.private {
			ok, seen := allowed[m.topic]
			if !seen {
				ok = s.authorize(claims, m.topic, extBroadcast, true)
				allowed[m.topic] = ok
			}
			if !ok {
				continue // unauthorized private messages are skipped silently
			}
		}
		topic := TopicPrefix + m.topic
		s.countEvents(1)
		s.deliver(topicKey{topic, m.private}, nil, sameForAll(&frame.Frame{
			Topic: topic, Event: eventBroadcast, Payload: batchPayload(m),
		}))
	}
	writeJSON(w, http.StatusAccepted, "")
}

// validateBatchMessage casts and validates one message like the server's
// changeset: topic, event (strings) and payload (object) are required,
// private is a boolean, id a UUID; the payload must fit the size limit.
func (s *Server) validateBatchMessage(f map[string]json.RawMessage) (batchMessage, map[string][]string) {
	var m batchMessage
	errs := map[string][]string{}
	str := func(key string) string {
		raw, ok := f[key]
		if !ok || isNull(raw) {
			errs[key] = []string{msgCantBeBlank}
			return ""
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			errs[key] = []string{msgIsInvalid}
			return ""
		}
		if strings.TrimSpace(v) == "" {
			errs[key] = []string{msgCantBeBlank}
		}
		return v
	}
	m.topic = str("topic")
	m.event = str("event")
	switch raw, ok := f["payload"]; {
	case !ok || isNull(raw):
		errs["payload"] = []string{msgCantBeBlank}
	case objectFields(raw) == nil:
		errs["payload"] = []string{msgIsInvalid}
	default:
		var buf bytes.Buffer
		_ = json.Compact(&buf, raw)
		m.payload = buf.Bytes()
		if len(m.payload) > s.opts.MaxPayloadBytes {
			errs["payload"] = []string{msgPayloadExceedsSize}
		}
	}
	if raw, ok := f["private"]; ok && !isNull(raw) {
		if b, ok := castBool(raw); ok {
			m.private = b
		} else {
			errs["private"] = []string{msgIsInvalid}
		}
	}
	if raw, ok := f["id"]; ok && !isNull(raw) {
		if json.Unmarshal(raw, &m.id) != nil || !uuidPattern.MatchString(m.id) {
			errs["id"] = []string{msgIsInvalid}
		}
	}
	return m, errs
}

// batchPayload renders {"payload":…,"event":…,"type":"broadcast"[,"meta":{"id":…}]}.
func batchPayload(m batchMessage) []byte {
	ev, _ := json.Marshal(m.event)
	p := make([]byte, 0, len(m.payload)+len(ev)+80)
	p = append(p, `{"payload":`...)
	p = append(p, m.payload...)
	p = append(p, `,"event":`...)
	p = append(p, ev...)
	p = append(p, `,"type":"broadcast"`...)
	if m.id != "" {
		id, _ := json.Marshal(m.id)
		p = append(p, `,"meta":{"id":`...)
		p = append(p, id...)
		p = append(p, '}')
	}
	return append(p, '}')
}

// serveSingle implements POST /api/broadcast/{topic}/events/{event}
// (§5.6 b).
func (s *Server) serveSingle(w http.ResponseWriter, r *http.Request, body []byte, claims map[string]any) {
	ctype, hasType := r.Header["Content-Type"]
	var binary bool
	switch {
	case !hasType:
	case strings.HasPrefix(ctype[0], "application/json"):
	case strings.HasPrefix(ctype[0], "application/octet-stream"):
		binary = true
	default:
		writeJSON(w, http.StatusUnsupportedMediaType, BodyUnsupportedMedia)
		return
	}
	topic, event := r.PathValue("topic"), r.PathValue("event")
	private := r.URL.Query().Get("private") == "true"

	var payload []byte
	switch {
	case binary:
		payload = body
	case !hasType || len(bytes.TrimSpace(body)) == 0:
		payload = []byte(`{}`)
	default:
		var err error
		if payload, err = reencodeJSONBody(body); err != nil {
			writeJSON(w, http.StatusBadRequest, `{"errors":{"detail":"Bad Request"}}`)
			return
		}
	}

	errs := map[string][]string{}
	if strings.TrimSpace(topic) == "" {
		errs["topic"] = []string{msgCantBeBlank}
	}
	if strings.TrimSpace(event) == "" {
		errs["event"] = []string{msgCantBeBlank}
	}
	if len(payload) > s.opts.MaxPayloadBytes {
		errs["payload"] = []string{msgPayloadExceedsSize}
	}
	if len(errs) > 0 {
		out, _ := json.Marshal(map[string]any{"errors": errs})
		writeJSON(w, http.StatusUnprocessableEntity, string(out))
		return
	}
	if s.eventsAtLimit() || s.httpLimited() {
		writeJSON(w, http.StatusTooManyRequests, BodyRateLimited)
		return
	}
	if private && !s.authorize(claims, topic, extBroadcast, true) {
		writeJSON(w, http.StatusForbidden, BodyUnauthorized)
		return
	}
	enc := frame.EncodingJSON
	if binary {
		enc = frame.EncodingBinary
	}
	wire := TopicPrefix + topic
	s.countEvents(1)
	s.deliver(topicKey{wire, private}, nil, userBroadcastDelivery(wire, event, enc, payload))
	writeJSON(w, http.StatusAccepted, "")
}

// reencodeJSONBody parses a JSON body the way Plug does (a non-object
// value is wrapped as {"_json": value}) and re-encodes it with sorted keys
// and no HTML escaping, as Jason does for small maps.
func reencodeJSONBody(body []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, ok := v.(map[string]any); !ok {
		v = map[string]any{"_json": v}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// isJSONContent reports a JSON request body (what Plug.Parsers parses).
func isJSONContent(r *http.Request) bool {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	return strings.HasPrefix(ct, "application/json") || strings.Contains(ct, "+json")
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// castBool casts like Ecto's :boolean type.
func castBool(raw json.RawMessage) (bool, bool) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "true", "1":
			return true, true
		case "false", "0":
			return false, true
		}
	}
	return false, false
}

package realtime

import (
	"net/url"
	"strings"

	"github.com/supabase-go/realtime/internal/redact"
)

// socketURL builds the socket URL: an http(s) project URL becomes
// ws(s)://host/realtime/v1/websocket; a ws(s) URL is used as given. The
// query carries apikey, the extra params, log_level and vsn.
func socketURL(raw, apiKey string, o *options) (string, error) {
	if apiKey == "" {
		return "", invalid("api key", "must not be empty")
	}
	if !strings.Contains(raw, "://") {
		// "localhost:4000" parses with scheme "localhost", and
		// "127.0.0.1:4000" not at all: name the slip instead.
		return "", invalid("url", "has no scheme: want http(s)://host[:port] (the project URL) or ws(s)://host[:port]/path")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", invalid("url", "cannot be parsed")
	}
	if u.Host == "" {
		return "", invalid("url", "has no host")
	}
	switch u.Scheme {
	case "http", "https":
		if u.Scheme == "http" {
			u.Scheme = "ws"
		} else {
			u.Scheme = "wss"
		}
		u.Path = strings.TrimRight(u.Path, "/") + "/realtime/v1/websocket"
	case "ws", "wss":
	default:
		return "", invalid("url", "scheme must be http, https, ws or wss")
	}
	q := u.Query()
	q.Set("apikey", apiKey)
	for k, vs := range o.params {
		q.Del(k)
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	if o.logLevel != "" {
		q.Set("log_level", o.logLevel)
	}
	q.Set("vsn", string(o.vsn))
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String(), nil
}

// redacted returns the URL with the API key hidden.
func redacted(raw string) string { return redact.RedactURL(raw) }

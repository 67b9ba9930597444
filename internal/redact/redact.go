package redact

import (
	"net/url"
)

// secretParams are query parameters whose values never appear in logs or
// errors.
var secretParams = []string{"apikey", "access_token", "token", "api_key"}

// RedactURL returns raw with secret query values replaced by "REDACTED".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable url>"
	}
	q := u.Query()
	for _, k := range secretParams {
		if q.Has(k) {
			q.Set(k, "REDACTED")
		}
	}
	u.RawQuery = q.Encode()
	u.User = nil
	return u.String()
}

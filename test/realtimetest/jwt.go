package realtimetest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// SignJWT returns an HS256 JWT ({"alg":"HS256","typ":"JWT"}) over claims,
// signed with secret, the way Supabase signs its anon, service_role and
// user tokens. It panics if claims cannot be marshalled. Typical claims:
//
//	realtimetest.SignJWT(secret, map[string]any{
//		"role": "authenticated",
//		"sub":  "user-1",
//		"exp":  time.Now().Add(time.Hour).Unix(),
//	})
func SignJWT(secret string, claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		panic("realtimetest: SignJWT: " + err.Error())
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// tokenErrKind classifies why a token was refused (§1.5, §3.3 step 7).
type tokenErrKind int

const (
	tokenMalformed     tokenErrKind = iota + 1 // not three base64url JSON parts
	tokenSigner                                // header names an algorithm other than HS256/384/512
	tokenSignature                             // HMAC does not verify
	tokenExpired                               // exp <= now
	tokenMissingClaims                         // role or exp absent
	tokenInvalidExp                            // exp rounds to now (exp - now <= 0 after a passing check)
	tokenOther                                 // anything the real server reports as an unknown error
)

// Messages of the token errors, without the join-reply code prefix.
const (
	msgMalformedJWT   = "The token provided is not a valid JWT"
	msgSignerError    = "Failed to generate JWT signer, check your JWT secret or JWKS configuration"
	msgSignatureError = "Failed to validate JWT signature"
	msgMissingClaims  = "Fields `role` and `exp` are required in JWT"
	msgInvalidExp     = "Token expiration time is invalid"
	msgUnknownChannel = "Unknown Error on Channel"
)

// tokenError is a refused token.
type tokenError struct {
	kind tokenErrKind
	// ago is the "N" of "Token has expired N seconds ago", already
	// formatted the way Elixir prints the difference (integer, or float
	// when exp was not an integer).
	ago string
	// expDiff is exp - now for tokenInvalidExp (0 or negative).
	expDiff int64
}

func (e *tokenError) Error() string { return e.channelMessage() }

// joinReason is the join error reason (§3.3 step 7).
func (e *tokenError) joinReason() string {
	switch e.kind {
	case tokenMalformed:
		return "MalformedJWT: " + msgMalformedJWT
	case tokenSigner:
		return "JwtSignerError: " + msgSignerError
	case tokenSignature:
		return "JwtSignatureError: " + msgSignatureError
	case tokenExpired:
		return "InvalidJWTToken: Token has expired " + e.ago + " seconds ago"
	case tokenMissingClaims:
		return "InvalidJWTToken: " + msgMissingClaims
	case tokenInvalidExp:
		return "InvalidJWTToken: " + msgInvalidExp
	}
	return msgUnknownChannel
}

// channelMessage is the message of the system error that shuts a joined
// channel down after an access_token refresh or the expiry re-check
// (§8.1–8.2).
func (e *tokenError) channelMessage() string {
	switch e.kind {
	case tokenMalformed:
		return msgMalformedJWT
	case tokenSigner:
		return msgSignerError
	case tokenSignature:
		// The real server inspects the error atom here.
		return ":signature_error"
	case tokenExpired:
		return "Token has expired " + e.ago + " seconds ago"
	case tokenMissingClaims:
		return msgMissingClaims
	case tokenInvalidExp:
		return strconv.FormatInt(e.expDiff, 10)
	}
	return msgUnknownChannel
}

// connectError is the HTTP status and {"error":…} message of a refused
// socket handshake (§1.5).
func (e *tokenError) connectError() (int, string) {
	switch e.kind {
	case tokenMalformed:
		return 401, msgMalformedJWT
	case tokenSigner:
		return 401, msgSignerError
	case tokenSignature:
		return 401, msgSignatureError
	case tokenExpired:
		return 401, "Token has expired"
	case tokenMissingClaims:
		return 401, msgMissingClaims
	}
	return 500, "Error connecting to Realtime"
}

// verifiedToken is a token that passed verification.
type verifiedToken struct {
	raw    string
	claims map[string]any
	exp    int64 // rounded, as the server does
}

// cleanToken URL-decodes the token and strips whitespace, as the server
// does before verifying (§1.5).
func cleanToken(tok string) (string, bool) {
	dec, err := url.PathUnescape(tok)
	if err != nil {
		return "", false
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, dec), true
}

// verifyJWT checks tok against secret at time now in the server's order:
// claims format, header format, signer (HS256/384/512 only), signature,
// exp (numeric, in the future), iat (numeric if present), role and exp
// present. forJoin adds the channel-side check that exp - now > 0 after
// rounding (§3.3 step 7).
func verifyJWT(tok, secret string, now time.Time, forJoin bool) (*verifiedToken, *tokenError) {
	clean, ok := cleanToken(tok)
	if !ok {
		return nil, &tokenError{kind: tokenOther}
	}
	parts := strings.Split(clean, ".")
	if len(parts) != 3 {
		return nil, &tokenError{kind: tokenMalformed}
	}
	payload, err := decodeSegment(parts[1])
	if err != nil {
		return nil, &tokenError{kind: tokenMalformed}
	}
	var anyClaims any
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	if d.Decode(&anyClaims) != nil {
		return nil, &tokenError{kind: tokenMalformed}
	}
	numClaims, ok := anyClaims.(map[string]any)
	if !ok {
		return nil, &tokenError{kind: tokenOther} // expected_claims_map
	}
	headerRaw, err := decodeSegment(parts[0])
	if err != nil {
		return nil, &tokenError{kind: tokenOther} // expected_header_map
	}
	var header map[string]any
	if json.Unmarshal(headerRaw, &header) != nil || header == nil {
		return nil, &tokenError{kind: tokenOther}
	}
	alg, _ := header["alg"].(string)
	var h func() hash.Hash
	switch alg {
	case "HS256":
		h = sha256.New
	case "HS384":
		h = sha512.New384
	case "HS512":
		h = sha512.New
	default:
		return nil, &tokenError{kind: tokenSigner}
	}
	sig, err := decodeSegment(parts[2])
	mac := hmac.New(h, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, &tokenError{kind: tokenSignature}
	}

	nowSec := now.Unix()
	var expVal float64
	rawExp, hasExp := numClaims["exp"]
	if hasExp {
		n, isNum := rawExp.(json.Number)
		if !isNum {
			return nil, &tokenError{kind: tokenOther}
		}
		f, err := n.Float64()
		if err != nil {
			return nil, &tokenError{kind: tokenOther}
		}
		expVal = f
		if !(f > float64(nowSec)) {
			return nil, &tokenError{kind: tokenExpired, ago: formatAgo(nowSec, n)}
		}
	}
	if iat, ok := numClaims["iat"]; ok {
		if _, isNum := iat.(json.Number); !isNum {
			return nil, &tokenError{kind: tokenOther}
		}
	}
	_, hasRole := numClaims["role"]
	if !hasExp || !hasRole {
		return nil, &tokenError{kind: tokenMissingClaims}
	}
	exp := int64(math.Round(expVal))
	if forJoin && exp-nowSec <= 0 {
		return nil, &tokenError{kind: tokenInvalidExp, expDiff: exp - nowSec}
	}
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims) // float64 numbers for the Authorize hook
	if claims == nil {
		claims = map[string]any{}
	}
	claims["exp"] = float64(exp)
	return &verifiedToken{raw: tok, claims: claims, exp: exp}, nil
}

// formatAgo renders now - exp like Elixir: an integer for an integer exp,
// a float (always with a fraction) otherwise.
func formatAgo(now int64, exp json.Number) string {
	if i, err := strconv.ParseInt(exp.String(), 10, 64); err == nil {
		return strconv.FormatInt(now-i, 10)
	}
	f, _ := exp.Float64()
	s := strconv.FormatFloat(float64(now)-f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// decodeSegment decodes a base64url JWT segment, with or without padding.
func decodeSegment(s string) ([]byte, error) {
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.URLEncoding.DecodeString(s)
}

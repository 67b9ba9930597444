package wire

import "strings"

// IsAuthReason reports whether a server reason or system message is about
// the token: the join-error prefixes InvalidJWTToken, MalformedJWT,
// JwtSignatureError and JwtSignerError, and the system texts about expired
// tokens, JWT fields and read permissions (docs/protocol.md §3.3, §8.1).
func IsAuthReason(reason string) bool {
	for _, p := range []string{"InvalidJWTToken", "MalformedJWT", "JwtSignatureError", "JwtSignerError",
		"Token has expired", "Fields `role` and `exp` are required", "The token provided is not a valid JWT",
		"You do not have permissions to read", "You no longer have permission to read", "Unauthorized:"} {
		if strings.Contains(reason, p) {
			return true
		}
	}
	return false
}

// Package redact removes secrets (the API key, access tokens, secret query
// parameters) from strings before they reach an error or a log line.
//
// # Concurrency
//
// Every function is pure and safe for concurrent use.
//
// # Lifecycle
//
// The package starts no goroutines and holds no resources.
package redact

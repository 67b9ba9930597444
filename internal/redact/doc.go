// Package redact removes secrets (the API key, access tokens, secret query
// parameters) from strings before they reach an error or a log line.
//
// A Redactor is the client's one list of secrets: the API key and every
// token the client has held. The client passes the server's text through
// it on its way into errors, and wraps its logger with Handler so that no
// log line — its own or protoactor-go's — carries a secret.
//
// # Concurrency
//
// The functions are pure. A Redactor is safe for concurrent use: Add
// serializes on a mutex and publishes a new list; String and Bytes read
// the current list without locking. Handler's handlers are as safe as the
// handler they wrap.
//
// # Lifecycle
//
// The package starts no goroutines and holds no resources. A Redactor
// lives as long as its client and only grows (a replaced token stays a
// secret).
package redact

// Package pgtext converts Postgres text forms (array literals, booleans)
// into JSON, for the legacy postgres_changes payloads whose values arrive as
// Postgres text, and classifies type names by how their values convert.
//
// # Concurrency
//
// Every function is pure and safe for concurrent use.
//
// # Lifecycle
//
// The package starts no goroutines and holds no resources.
package pgtext

// Package jsonscan is the allocation-free JSON scanner the codec and the
// payload parsers are built on: validation (ValidJSON), iteration over
// objects and arrays without building a tree (ObjectEach, ArrayEach), and
// string helpers (Unquote, AppendQuote, KeyEquals). It agrees with
// encoding/json on what is valid JSON; the tests and FuzzObjectEach check
// that. Errors wrap frame.ErrMalformed and never contain input bytes.
//
// # Concurrency
//
// Every function is pure and safe for concurrent use.
//
// # Lifecycle
//
// The package starts no goroutines and holds no resources.
package jsonscan

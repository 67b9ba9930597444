// Package frame defines Frame, one logical Phoenix message, and the
// serializer vocabulary it travels with (Vsn, Kind, Encoding, Span). It is a
// leaf package so that the actor messages in package messages can carry
// frames without depending on the codec in package wire.
//
// # Concurrency
//
// A Frame is a plain value. Decoded frames alias the buffer they were
// decoded from (see Frame.Own); nothing in the package is shared.
//
// # Lifecycle
//
// The package starts no goroutines and holds no resources.
package frame

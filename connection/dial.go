package connection

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"

	"github.com/gorilla/websocket"
)

// interruptible returns a copy of d whose network connections are closed
// as soon as ctx ends, until release is called. gorilla/websocket bounds
// the TLS and HTTP handshake of a dial only by the ctx deadline, not by its
// cancellation, so without this a dial stuck in the handshake (a
// black-holed or stalled server) would outlive a Close by up to the whole
// dial timeout. Call release once DialContext has returned; it reports
// false when a connection was closed because ctx ended.
//
// The copy also arranges for the frames to be read by this package's
// frame reader (frames.go) wherever it can see the socket gorilla reads
// the upgrade response from: that socket is a handshakeConn (see there),
// which the reader goroutine recognises in the dialed Conn
// (UnderlyingConn). That is the case for ws://, for wss:// through a
// Dialer.NetDialTLSContext, and for wss:// without a proxy, whose TLS
// handshake the copy then does itself as gorilla does (ownTLS). With
// compression enabled, or wss:// through a proxy (where gorilla does the
// TLS over the proxy's tunnel), gorilla reads the frames as before, over a
// burstConn.
func interruptible(ctx context.Context, d *websocket.Dialer, rawURL string) (*websocket.Dialer, func() bool) {
	cp := *d
	var (
		mu    sync.Mutex
		stops []func() bool
	)
	watch := func(c net.Conn) {
		stop := context.AfterFunc(ctx, func() { _ = c.Close() })
		mu.Lock()
		stops = append(stops, stop)
		mu.Unlock()
	}
	own := !d.EnableCompression
	wrap := func(dial func(context.Context, string, string) (net.Conn, error), own bool) func(context.Context, string, string) (net.Conn, error) {
		return func(dctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(dctx, network, addr)
			if err != nil {
				return nil, err
			}
			// The watcher closes the socket itself, which unblocks a
			// Read too.
			watch(c)
			if own {
				return newHandshakeConn(c), nil
			}
			// gorilla reads the frames: its reads adapt to the traffic
			// (burstconn.go).
			return newBurstConn(c), nil
		}
	}
	base := d.NetDialContext
	switch {
	case base != nil:
	case d.NetDial != nil:
		nd := d.NetDial
		base = func(_ context.Context, network, addr string) (net.Conn, error) { return nd(network, addr) }
	default:
		var nd net.Dialer
		base = nd.DialContext
	}
	cp.NetDial = nil
	secure := isSecure(rawURL)
	switch {
	case !secure:
		cp.NetDialContext = wrap(base, own)
	case d.NetDialTLSContext != nil:
		cp.NetDialContext = wrap(base, false)
		cp.NetDialTLSContext = wrap(d.NetDialTLSContext, own)
	case own && !proxied(d, rawURL):
		cp.NetDialContext = wrap(base, false)
		cp.NetDialTLSContext = ownTLS(wrap(base, false), d.TLSClientConfig)
		cp.Proxy = nil // asked already: none
	default:
		cp.NetDialContext = wrap(base, false)
	}
	release := func() bool {
		mu.Lock()
		defer mu.Unlock()
		ok := true
		for _, stop := range stops {
			if !stop() {
				ok = false
			}
		}
		stops = nil
		return ok
	}
	return &cp, release
}

// isSecure reports whether rawURL is a wss:// (or https://) URL.
func isSecure(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && (u.Scheme == "wss" || u.Scheme == "https")
}

// proxied reports whether d dials rawURL through a proxy, asking d.Proxy
// as gorilla does (with the URL's scheme made http or https); an error
// counts as proxied, so gorilla's dial reports it.
func proxied(d *websocket.Dialer, rawURL string) bool {
	if d.Proxy == nil {
		return false
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return true
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	p, err := d.Proxy(&http.Request{Method: http.MethodGet, URL: u, Header: make(http.Header), Host: u.Host})
	return err != nil || p != nil
}

// ownTLS returns a NetDialTLSContext that dials with dial and does the
// TLS handshake as gorilla/websocket v1.5.3 does when it has none
// (client.go, tls_handshake.go): a clone of cfg, ServerName the host when
// unset, the handshake bounded by ctx, the host name verified unless
// InsecureSkipVerify, the client trace's TLS hooks called. The TLS
// connection is wrapped in a handshakeConn, which gorilla then reads the
// upgrade response from.
func ownTLS(dial func(context.Context, string, string) (net.Conn, error), cfg *tls.Config) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := cfg.Clone()
		if tc == nil {
			tc = &tls.Config{}
		}
		if tc.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			tc.ServerName = host
		}
		conn := tls.Client(c, tc)
		trace := httptrace.ContextClientTrace(ctx)
		if trace != nil && trace.TLSHandshakeStart != nil {
			trace.TLSHandshakeStart()
		}
		err = conn.HandshakeContext(ctx)
		if err == nil && !tc.InsecureSkipVerify {
			err = conn.VerifyHostname(tc.ServerName)
		}
		if trace != nil && trace.TLSHandshakeDone != nil {
			trace.TLSHandshakeDone(conn.ConnectionState(), err)
		}
		if err != nil {
			_ = c.Close()
			return nil, err
		}
		return newHandshakeConn(conn), nil
	}
}

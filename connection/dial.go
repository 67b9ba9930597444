package connection

import (
	"context"
	"net"
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
func interruptible(ctx context.Context, d *websocket.Dialer) (*websocket.Dialer, func() bool) {
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
	wrap := func(dial func(context.Context, string, string) (net.Conn, error)) func(context.Context, string, string) (net.Conn, error) {
		return func(dctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(dctx, network, addr)
			if err != nil {
				return nil, err
			}
			watch(c)
			// Reads adapt to the traffic (burstconn.go). The watcher
			// closes the socket itself, which unblocks a Read too.
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
	cp.NetDialContext = wrap(base)
	if d.NetDialTLSContext != nil {
		cp.NetDialTLSContext = wrap(d.NetDialTLSContext)
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

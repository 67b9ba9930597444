package messages

// ConnectionState is the state of the WebSocket connection.
type ConnectionState string

const (
	// ConnConnecting: a dial (and the access-token call before it) is in
	// progress.
	ConnConnecting ConnectionState = "connecting"
	// ConnOpen: the socket is open and heartbeats are running.
	ConnOpen ConnectionState = "open"
	// ConnClosing: the client is closing the socket on purpose.
	ConnClosing ConnectionState = "closing"
	// ConnClosed: no socket. A reconnect may be scheduled (see
	// ConnectionStateEvent.Err) unless the client was closed.
	ConnClosed ConnectionState = "closed"
)

// ChannelState is the state of one channel, as in phoenix.js.
type ChannelState string

const (
	// ChannelClosed: not joined and not trying to join.
	ChannelClosed ChannelState = "closed"
	// ChannelErrored: the join failed, timed out, the channel crashed or the
	// socket dropped; a rejoin is scheduled.
	ChannelErrored ChannelState = "errored"
	// ChannelJoined: the server accepted the join.
	ChannelJoined ChannelState = "joined"
	// ChannelJoining: a phx_join is in flight or waits for the socket.
	ChannelJoining ChannelState = "joining"
	// ChannelLeaving: a phx_leave is in flight.
	ChannelLeaving ChannelState = "leaving"
)

// SubscribeStatus is the outcome of a subscribe attempt, with the names
// realtime-js uses.
type SubscribeStatus string

const (
	// Subscribed: the join was accepted.
	Subscribed SubscribeStatus = "SUBSCRIBED"
	// TimedOut: no join reply within the timeout; the channel leaves and
	// rejoins with backoff.
	TimedOut SubscribeStatus = "TIMED_OUT"
	// Closed: the server closed the channel (phx_close); terminal, no
	// automatic rejoin.
	Closed SubscribeStatus = "CLOSED"
	// ChannelError: the server rejected the join or the channel crashed;
	// the channel rejoins with backoff.
	ChannelError SubscribeStatus = "CHANNEL_ERROR"
)

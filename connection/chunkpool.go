package connection

import "sync"

// chunkPool holds read chunks (chunkSize bytes) no reader is using. A
// reader takes one when a message arrives and parks it in its Inbox while
// it waits for the next (see chunkReader.park); the Inbox returns it here
// once the registry has released every frame read into it. So an idle
// socket holds no chunk, and chunks are shared by every client of the
// process.
var chunkPool = sync.Pool{New: func() any {
	b := make([]byte, 0, chunkSize)
	return &b
}}

// recycleChunk puts a chunk, none of whose frames is used any more, back
// in the pool.
func recycleChunk(b *[]byte) {
	*b = (*b)[:0]
	chunkPool.Put(b)
}

// park hands the current chunk to the Inbox before the reader waits for
// the socket. A chunk of another size (a large message's own buffer) is
// not pooled: it is dropped.
func (c *chunkReader) park() {
	if cap(c.chunk) != chunkSize {
		c.chunk, c.buf = nil, nil
		return
	}
	if c.buf == nil {
		c.buf = new([]byte)
	}
	*c.buf = c.chunk
	c.inbox.Park(c.buf, recycleChunk)
	c.chunk, c.buf = nil, nil
}

// fresh returns the chunk to read the next message into: the parked one
// if the Inbox still has it and it has room, else one from the pool. Its
// length is where the message starts.
func (c *chunkReader) fresh() []byte {
	if b := c.inbox.Unpark(); b != nil && cap(*b)-len(*b) >= minRoom {
		c.buf = b
		return *b
	}
	// A parked chunk without room is dropped: frames in it may still be
	// in use, so it cannot go back to the pool.
	c.buf = chunkPool.Get().(*[]byte)
	return (*c.buf)[:0]
}

package connection

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
)

// scriptConn returns the reads of a script, one chunk per Read, then err.
type scriptConn struct {
	net.Conn
	chunks [][]byte
	err    error
	reads  []int // len(p) of every Read
}

func (s *scriptConn) Read(p []byte) (int, error) {
	s.reads = append(s.reads, len(p))
	if len(s.chunks) == 0 {
		return 0, s.err
	}
	n := copy(p, s.chunks[0])
	if n < len(s.chunks[0]) {
		s.chunks[0] = s.chunks[0][n:]
	} else {
		s.chunks = s.chunks[1:]
	}
	return n, nil
}

func TestBurstConnHoldsNoBufferWhileTrickling(t *testing.T) {
	s := &scriptConn{chunks: [][]byte{[]byte("ab"), []byte("cd")}, err: io.EOF}
	c := newBurstConn(s)
	p := make([]byte, 8)
	for _, want := range []string{"ab", "cd"} {
		n, err := c.Read(p)
		if err != nil || string(p[:n]) != want {
			t.Fatalf("Read = %q, %v; want %q", p[:n], err, want)
		}
		if c.buf != nil {
			t.Fatal("a short read took a burst buffer")
		}
	}
	if _, err := c.Read(p); !errors.Is(err, io.EOF) {
		t.Fatalf("Read at the end = %v, want EOF", err)
	}
}

func TestBurstConnReadsBurstsWhole(t *testing.T) {
	blast := bytes.Repeat([]byte("0123456789"), burstSize/10+1)[:burstSize]
	tail := []byte("end")
	s := &scriptConn{chunks: [][]byte{blast[:8], blast[8:], tail}, err: io.EOF}
	c := newBurstConn(s)
	var got []byte
	p := make([]byte, 8) // a small gorilla buffer
	for {
		n, err := c.Read(p)
		got = append(got, p[:n]...)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	if want := append(append([]byte{}, blast...), tail...); !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want %d, or the bytes differ", len(got), len(want))
	}
	// The first read filled p: the rest of the blast came in one 64 KiB
	// read, the tail in another, then the end.
	if len(s.reads) != 4 || s.reads[1] != burstSize || s.reads[2] != burstSize {
		t.Fatalf("reads of the socket: %v", s.reads)
	}
	if c.buf != nil {
		t.Fatal("the burst buffer was kept after a short read")
	}
}

func TestBurstConnReturnsBytesBeforeTheError(t *testing.T) {
	boom := errors.New("reset")
	c := newBurstConn(&scriptConn{chunks: [][]byte{[]byte("xxxxxxxx"), []byte("yz")}, err: boom})
	p := make([]byte, 8)
	if n, err := c.Read(p); n != 8 || err != nil {
		t.Fatalf("first Read = %d, %v", n, err)
	}
	if n, err := c.Read(p); string(p[:n]) != "yz" || err != nil {
		t.Fatalf("second Read = %q, %v", p[:n], err)
	}
	if _, err := c.Read(p); !errors.Is(err, boom) {
		t.Fatalf("third Read = %v, want the socket's error", err)
	}
	if c.buf != nil {
		t.Fatal("buffer kept after the error")
	}
}

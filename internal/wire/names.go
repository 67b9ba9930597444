package wire

// MaxNames bounds a NameCache, so a server sending ever new names cannot
// grow it without bound; past it, names are allocated as usual.
const MaxNames = 1024

// NameCache interns event names: a channel carries a handful of them, and
// allocating a string per event would be a third of the hot path's
// allocations. It is not safe for concurrent use; each goroutine that
// decodes (the socket reader, the registry) owns one.
type NameCache struct{ m map[string]string }

// NewNameCache returns an empty cache.
func NewNameCache() *NameCache { return &NameCache{m: map[string]string{}} }

// Intern returns the cached string equal to b, adding it if there is room.
// It is an InternFunc.
func (c *NameCache) Intern(b []byte) (string, bool) {
	if s, ok := c.m[string(b)]; ok {
		return s, true
	}
	if len(c.m) >= MaxNames {
		return "", false
	}
	s := string(b)
	c.m[s] = s
	return s, true
}

// WithNames returns a copy of codec whose binary user broadcasts (kinds 3
// and 4) look their event name up in names before allocating it. The copy
// must be used by one goroutine at a time if names is not safe for
// concurrent use. Codecs without binary user broadcasts are returned as
// they are.
func WithNames(codec Codec, names InternFunc) Codec {
	if c, ok := codec.(v2Codec); ok {
		c.names = names
		return c
	}
	return codec
}

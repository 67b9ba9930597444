package wire

import (
	"strconv"
	"sync/atomic"
)

// Refs issues message refs: decimal strings from one counter per client
// socket ("1", "2", …), as phoenix.js does. The counter is never reset, so
// refs stay unique across reconnects and a late reply can never match a
// newer push. The zero value is ready; safe for concurrent use.
type Refs struct{ n atomic.Uint64 }

// Next returns a fresh ref.
func (r *Refs) Next() string { return strconv.FormatUint(r.n.Add(1), 10) }

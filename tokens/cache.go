package tokens

import (
	"strings"
	"sync/atomic"
)

// Pieces that are a token count as one after a single table lookup; the others (a rare
// word, a long number's digits, a run of punctuation) are merged pair by pair, which
// costs a lookup per pair and round. Such pieces repeat across requests, so their
// counts are kept in a pieceCache.
const (
	cacheSlots    = 1 << 13 // per encoding: 64 KB of pointers
	maxCachedLen  = 48      // longer pieces are rare and not kept
	cacheHashBits = 32      // slots are picked with the hash's high bits (the table uses the low ones)
)

// pieceCache is a fixed-size, direct-mapped cache of piece → token count. A slot holds
// an immutable entry that is replaced whole, so readers take no lock and a reader
// never sees a key with another key's count; memory stays under about 1 MB.
type pieceCache struct {
	slots [cacheSlots]atomic.Pointer[cacheEntry]
}

type cacheEntry struct {
	key   string
	count int32
}

func slotOf(h uint64) uint64 { return (h >> cacheHashBits) & (cacheSlots - 1) }

// get returns the count of piece p, whose hash is h, if it is cached.
func (c *pieceCache) get(p string, h uint64) (int, bool) {
	if e := c.slots[slotOf(h)].Load(); e != nil && e.key == p {
		return int(e.count), true
	}
	return 0, false
}

// put caches the count of piece p, evicting whatever shared its slot. The key is
// copied so that the cache does not keep the text it came from alive.
func (c *pieceCache) put(p string, h uint64, count int) {
	if len(p) > maxCachedLen {
		return
	}
	c.slots[slotOf(h)].Store(&cacheEntry{key: strings.Clone(p), count: int32(count)})
}

// reset empties the cache (for tests and benchmarks of the cold path).
func (c *pieceCache) reset() {
	for i := range c.slots {
		c.slots[i].Store(nil)
	}
}

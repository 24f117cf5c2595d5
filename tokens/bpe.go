package tokens

import "math"

// noRank marks a pair of parts that is not a token.
const noRank = math.MaxUint32

// shortPiece is the longest piece merged by scanning for the lowest rank; longer
// pieces (a run of one letter, of spaces, a long word in a script without spaces)
// keep their pairs in a heap so that merging stays O(n log n).
const shortPiece = 128

// merges counts the tokens of a piece that is not itself a token, merging the pair of
// adjacent parts whose concatenation has the lowest rank until no pair is a token. Ties
// go to the leftmost pair, as in tiktoken, so the parts are exactly its tokens.
func (t *table) merges(p string) int {
	if len(p) <= 1 {
		return len(p)
	}
	if len(p) > shortPiece {
		return t.mergesLong(p)
	}
	// starts[i] is where part i begins; ranks[i] is the rank of parts i and i+1.
	var startsBuf [shortPiece + 1]int32
	var ranksBuf [shortPiece]uint32
	starts, ranks := startsBuf[:len(p)+1], ranksBuf[:len(p)-1]
	for i := range starts {
		starts[i] = int32(i)
	}
	for i := range ranks {
		ranks[i] = t.pairRank(p, int(starts[i]), int(starts[i+2]))
	}
	for len(ranks) > 0 {
		best, bi := uint32(noRank), -1
		for i, r := range ranks {
			if r < best {
				best, bi = r, i
			}
		}
		if bi < 0 {
			break
		}
		// Part bi+1 joins part bi: drop its start and the pair that began with it.
		starts = append(starts[:bi+1], starts[bi+2:]...)
		ranks = append(ranks[:bi], ranks[bi+1:]...)
		if bi < len(ranks) {
			ranks[bi] = t.pairRank(p, int(starts[bi]), int(starts[bi+2]))
		}
		if bi > 0 {
			ranks[bi-1] = t.pairRank(p, int(starts[bi-1]), int(starts[bi+1]))
		}
	}
	return len(starts) - 1
}

func (t *table) pairRank(p string, lo, hi int) uint32 {
	if r, ok := t.rank(p[lo:hi]); ok {
		return r
	}
	return noRank
}

// mergesLong is merges for long pieces. Parts form a linked list indexed by their
// start; the heap holds (rank, start) of candidate pairs, stale entries being skipped
// when popped, so the lowest rank and then the leftmost start is merged first.
func (t *table) mergesLong(p string) int {
	n := len(p)
	next := make([]int32, n+1) // next[s] is the start of the part after the one at s
	prev := make([]int32, n+1)
	rank := make([]uint32, n) // rank[s] is the rank of the pair that starts at s
	h := make(pairHeap, 0, n)
	for s := range n {
		next[s], prev[s+1] = int32(s+1), int32(s)
		if rank[s] = noRank; s+2 <= n {
			rank[s] = t.pairRank(p, s, s+2)
		}
		if rank[s] != noRank {
			h = append(h, uint64(rank[s])<<32|uint64(s))
		}
	}
	h.init()
	parts := n
	for len(h) > 0 {
		e := h.pop()
		s, r := int32(e), uint32(e>>32)
		if rank[s] != r { // stale: the pair changed since it was pushed
			continue
		}
		m := next[s] // the part at m joins the part at s
		next[s], prev[next[m]], rank[m] = next[m], s, noRank
		parts--
		t.repair(p, &h, rank, s, next)
		if s > 0 {
			t.repair(p, &h, rank, prev[s], next)
		}
	}
	return parts
}

// repair recomputes the rank of the pair that starts at s after a merge.
func (t *table) repair(p string, h *pairHeap, rank []uint32, s int32, next []int32) {
	rank[s] = noRank
	if nx := next[s]; int(nx) < len(p) {
		rank[s] = t.pairRank(p, int(s), int(next[nx]))
	}
	if rank[s] != noRank {
		h.push(uint64(rank[s])<<32 | uint64(s))
	}
}

// pairHeap is a binary min-heap of rank<<32 | start.
type pairHeap []uint64

func (h pairHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *pairHeap) push(x uint64) {
	*h = append(*h, x)
	a := *h
	for i := len(a) - 1; i > 0; {
		parent := (i - 1) / 2
		if a[parent] <= a[i] {
			break
		}
		a[parent], a[i] = a[i], a[parent]
		i = parent
	}
}

func (h *pairHeap) pop() uint64 {
	a := *h
	x := a[0]
	a[0] = a[len(a)-1]
	*h = a[:len(a)-1]
	h.down(0)
	return x
}

func (h pairHeap) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		if r := l + 1; r < len(h) && h[r] < h[l] {
			l = r
		}
		if h[i] <= h[l] {
			return
		}
		h[i], h[l] = h[l], h[i]
		i = l
	}
}

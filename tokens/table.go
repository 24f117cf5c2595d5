package tokens

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"hash/maphash"
	"io"
	"math/bits"
	"strconv"

	"github.com/pkoukk/tiktoken-go-loader/assets"
)

// table maps the byte strings of an encoding's tokens to their ranks. tiktoken-go
// keeps a map[string]int and its inverse, two hundred thousand separate strings (about
// 21 MB for o200k_base); this keeps every token's bytes in one array, in rank order, and
// finds them through an open-addressing hash table of uint32 slots (about 4 MB).
type table struct {
	data  []byte   // the tokens' bytes, concatenated in rank order
	offs  []uint32 // token r is data[offs[r]:offs[r+1]]
	slots []uint32 // 0 (empty) or a hash tag in the high bits and rank+1 in the low bits
	mask  uint32   // len(slots)-1
	low   uint32   // mask of a slot's rank+1 bits
	seed  maphash.Seed
}

// hash returns the hash of s that the table and the piece cache both use.
func (t *table) hash(s string) uint64 { return maphash.String(t.seed, s) }

// token returns the bytes of the token of rank r.
func (t *table) token(r uint32) []byte { return t.data[t.offs[r]:t.offs[r+1]] }

// find returns the rank of s, whose hash is h, if s is a token.
func (t *table) find(s string, h uint64) (uint32, bool) {
	tag := uint32(h>>32) &^ t.low
	for i := uint32(h) & t.mask; ; i = (i + 1) & t.mask {
		v := t.slots[i]
		if v == 0 {
			return 0, false
		}
		if v&^t.low == tag {
			if r := v&t.low - 1; string(t.token(r)) == s {
				return r, true
			}
		}
	}
}

// rank returns the rank of s if s is a token.
func (t *table) rank(s string) (uint32, bool) { return t.find(s, t.hash(s)) }

// loadTable builds the table of the named tiktoken file embedded by
// tiktoken-go-loader: one line per token, its bytes in base64 and its rank, ranks
// counting up from zero. The file is read twice, to size the arrays exactly, so that
// building leaves no slack and little garbage.
func loadTable(file string) (*table, error) {
	f, err := assets.Assets.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		return nil, fmt.Errorf("%s: embedded file cannot seek", file)
	}
	var n, size int
	if err := eachLine(rs, func(b64 []byte, rank int) error {
		if rank != n {
			return fmt.Errorf("rank %d on line %d", rank, n+1)
		}
		n++
		size += len(b64)/4*3 - bytes.Count(b64[max(len(b64)-2, 0):], []byte("="))
		return nil
	}); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	t := &table{data: make([]byte, 0, size), offs: make([]uint32, 1, n+1), seed: maphash.MakeSeed()}
	var buf [256]byte
	if err := eachLine(rs, func(b64 []byte, _ int) error {
		if base64.StdEncoding.DecodedLen(len(b64)) > len(buf) {
			return fmt.Errorf("token of %d base64 bytes", len(b64))
		}
		m, err := base64.StdEncoding.Decode(buf[:], b64)
		if err != nil || len(t.data)+m > size {
			return fmt.Errorf("bad token %q: %v", b64, err)
		}
		t.data = append(t.data, buf[:m]...)
		t.offs = append(t.offs, uint32(len(t.data)))
		return nil
	}); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	t.index(n)
	return t, nil
}

// index fills the hash table for n tokens at a load factor under one half.
func (t *table) index(n int) {
	t.slots = make([]uint32, 1<<bits.Len(uint(2*n-1)))
	t.mask = uint32(len(t.slots) - 1)
	t.low = 1<<bits.Len32(uint32(n)) - 1
	for r := range uint32(n) {
		h := maphash.Bytes(t.seed, t.token(r))
		i := uint32(h) & t.mask
		for t.slots[i] != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = uint32(h>>32)&^t.low | (r + 1)
	}
}

// eachLine calls fn with the base64 token and the rank of each line of r.
func eachLine(r io.Reader, fn func(b64 []byte, rank int) error) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		b64, num, ok := bytes.Cut(line, []byte(" "))
		if !ok {
			return fmt.Errorf("line %q has no rank", line)
		}
		rank, err := strconv.Atoi(string(num))
		if err != nil {
			return fmt.Errorf("line %q: %w", line, err)
		}
		if err := fn(b64, rank); err != nil {
			return err
		}
	}
	return sc.Err()
}

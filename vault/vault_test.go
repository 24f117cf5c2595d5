package vault

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func testVault(t *testing.T) *Vault {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	kek, err := NewLocalKEK(key)
	if err != nil {
		t.Fatal(err)
	}
	return New(kek)
}

func TestSealOpenRoundTrip(t *testing.T) {
	v := testVault(t)
	ctx := context.Background()
	for _, pt := range [][]byte{{}, []byte("x"), []byte("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"), bytes.Repeat([]byte("a"), 1<<20)} {
		aad := RowAAD("provider_keys", "pk_1", "secret")
		sealed, err := v.Seal(ctx, pt, aad)
		if err != nil {
			t.Fatal(err)
		}
		if len(pt) > 4 && bytes.Contains(sealed, pt) {
			t.Fatal("sealed value contains the plaintext")
		}
		got, err := v.Open(ctx, sealed, aad)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("round trip failed: %v", err)
		}
	}
}

func TestSealedValueIsBoundToItsRow(t *testing.T) {
	v := testVault(t)
	ctx := context.Background()
	sealed, err := v.Seal(ctx, []byte("secret"), RowAAD("provider_keys", "pk_1", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	for _, aad := range [][]byte{
		RowAAD("provider_keys", "pk_2", "secret"),
		RowAAD("meta", "pk_1", "secret"),
		RowAAD("provider_keys", "pk_1", "other"),
	} {
		if _, err := v.Open(ctx, sealed, aad); !errors.Is(err, ErrOpen) {
			t.Fatalf("opened under %q: %v", aad, err)
		}
	}
}

func TestEveryBitFlipFailsToOpen(t *testing.T) {
	v := testVault(t)
	ctx := context.Background()
	aad := RowAAD("meta", "hmac_secret", "value")
	sealed, err := v.Seal(ctx, []byte("a provider key of moderate length"), aad)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(sealed) * 8 {
		b := bytes.Clone(sealed)
		b[i/8] ^= 1 << (i % 8)
		if _, err := v.Open(ctx, b, aad); err == nil {
			t.Fatalf("flipping bit %d still opened", i)
		}
	}
	for n := range len(sealed) {
		if _, err := v.Open(ctx, sealed[:n], aad); err == nil {
			t.Fatalf("truncation to %d bytes still opened", n)
		}
	}
	if _, err := v.Open(ctx, append(bytes.Clone(sealed), 0), aad); err == nil {
		t.Fatal("appended byte still opened")
	}
}

func TestWrongKeyAndRewrap(t *testing.T) {
	ctx := context.Background()
	a, b := testVault(t), testVault(t)
	aad := RowAAD("t", "1", "c")
	sealed, _ := a.Seal(ctx, []byte("v"), aad)
	if _, err := b.Open(ctx, sealed, aad); !errors.Is(err, ErrOpen) {
		t.Fatalf("other key opened: %v", err)
	}
	both := New(b.current, a.current)
	re, err := both.Rewrap(ctx, sealed, aad)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := KEKOf(re); id != b.CurrentKEK() {
		t.Fatalf("rewrapped under %s, want %s", id, b.CurrentKEK())
	}
	if got, err := b.Open(ctx, re, aad); err != nil || string(got) != "v" {
		t.Fatalf("new KEK alone cannot open rewrapped value: %v", err)
	}
}

type memMeta struct {
	mu   sync.Mutex
	m    map[string][]byte
	keks []KEKRecord
}

func newMem() *memMeta { return &memMeta{m: map[string][]byte{}} }

var errNotFound = errors.New("not found")

func (s *memMeta) GetMeta(_ context.Context, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[name]; ok {
		return v, nil
	}
	return nil, errNotFound
}

func (s *memMeta) PutMetaIfAbsent(_ context.Context, name string, v []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[name]; ok {
		return old, nil
	}
	s.m[name] = v
	return v, nil
}

func (s *memMeta) ListKEKs(context.Context) ([]KEKRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.keks), nil
}

func (s *memMeta) InsertKEK(_ context.Context, r KEKRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keks {
		if k.ID == r.ID || k.Version == r.Version {
			return errors.New("conflict")
		}
	}
	s.keks = append(s.keks, r)
	return nil
}

func (s *memMeta) RewrapKEK(_ context.Context, id string, old, wrapped []byte, root string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, k := range s.keks {
		if k.ID == id && bytes.Equal(k.Wrapped, old) {
			s.keks[i].Wrapped, s.keks[i].RootID = wrapped, root
			return true, nil
		}
	}
	return false, nil
}

func bootOpts(dir, master string) BootOptions {
	return BootOptions{MasterKey: master, KeyFile: filepath.Join(dir, "tollgate.key"),
		IsNotFound: func(err error) bool { return errors.Is(err, errNotFound) }}
}

func TestBoot(t *testing.T) {
	ctx := context.Background()
	t.Run("first start generates a 0600 key file and says so", func(t *testing.T) {
		dir, meta := t.TempDir(), newMem()
		opts := bootOpts(dir, "")
		var notice string
		opts.Notice = func(m string) { notice = m }
		if _, err := Boot(ctx, meta, opts); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(opts.KeyFile)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v %v", st, err)
		}
		if !strings.Contains(notice, "MASTER KEY") {
			t.Fatalf("no loud notice: %q", notice)
		}
		// The second start reads the same file and opens the canary.
		if _, err := Boot(ctx, meta, opts); err != nil {
			t.Fatalf("restart: %v", err)
		}
	})
	t.Run("sealed data without a key does not start", func(t *testing.T) {
		dir, meta := t.TempDir(), newMem()
		if _, err := Boot(ctx, meta, bootOpts(dir, "")); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(dir, "tollgate.key"))
		_, err := Boot(ctx, meta, bootOpts(dir, ""))
		if !errors.Is(err, ErrNoMasterKey) {
			t.Fatalf("want ErrNoMasterKey, got %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "tollgate.key")); err == nil {
			t.Fatal("a new key was generated over existing data")
		}
	})
	t.Run("a wrong master key stops the start with a clear message", func(t *testing.T) {
		dir, meta := t.TempDir(), newMem()
		k1, k2 := make([]byte, 32), make([]byte, 32)
		rand.Read(k1)
		rand.Read(k2)
		good, wrong := base64.StdEncoding.EncodeToString(k1), base64.StdEncoding.EncodeToString(k2)
		if _, err := Boot(ctx, meta, bootOpts(dir, good)); err != nil {
			t.Fatal(err)
		}
		_, err := Boot(ctx, meta, bootOpts(dir, wrong))
		if err == nil || !strings.Contains(err.Error(), "cannot open the data") {
			t.Fatalf("want a clear refusal, got %v", err)
		}
		if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), good) {
			t.Fatal("the error message contains a master key")
		}
	})
	t.Run("a malformed master key is refused", func(t *testing.T) {
		_, err := Boot(ctx, newMem(), bootOpts(t.TempDir(), "bm90IDMyIGJ5dGVz"))
		if err == nil || !strings.Contains(err.Error(), "32 bytes") {
			t.Fatalf("got %v", err)
		}
	})
}

package scan

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tollgate-llm/tollgate/keys"
)

// repo is a throwaway git repository.
type repo struct {
	t   *testing.T
	dir string
	// keys maps each planted key id to where it was committed.
	keys map[string]planted
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	r := &repo{t: t, dir: t.TempDir(), keys: map[string]planted{}}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=t", "-c", "user.email=t@example.com",
		"-c", "commit.gpgsign=false"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// write writes n new keys (after a filler line each) into name, after keep, and
// returns the file's lines.
func (r *repo) write(name string, keep []string, n int) []string {
	r.t.Helper()
	ls := append([]string(nil), keep...)
	for range n {
		key, _, err := keys.Generate(keys.KindClient)
		if err != nil {
			r.t.Fatal(err)
		}
		ls = append(ls, "# config", "key = "+key)
	}
	writeLines(r.t, r.dir, name, "\n", ls)
	return ls
}

// commit commits everything and records where the keys added by this commit are.
func (r *repo) commit(msg string) string {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
	head := r.git("rev-parse", "HEAD")
	for _, name := range strings.Split(r.git("show", "--name-only", "--format=", "-z", "HEAD"), "\x00") {
		if name == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(r.dir, name))
		if err != nil || strings.IndexByte(string(data), 0) >= 0 {
			continue // deleted by this commit, or binary
		}
		lines(data, func(n int, l []byte) {
			i := strings.Index(string(l), "tgk_")
			if i < 0 {
				return
			}
			key := string(l[i : i+keys.KeyLen])
			id := key[4:16]
			if _, ok := r.keys[id]; !ok {
				r.keys[id] = planted{secret: key, kind: KindTollgateClient, path: name, line: n, column: i + 1, commit: head}
			}
		})
	}
	return head
}

// TestFindsKeysInGitHistory builds a repository whose keys were deleted, live on an
// unmerged branch, behind a tag only, came in through a merge, or sit in files with
// awkward names, and expects every key at the commit, file, line and column that added
// it, once.
func TestFindsKeysInGitHistory(t *testing.T) {
	r := newRepo(t)
	a := r.write("a.txt", nil, 40)
	r.write("dir with space/ü.txt", nil, 5)
	r.write("tab\tname.txt", nil, 5)
	key, _, _ := keys.Generate(keys.KindClient)
	writeLines(t, r.dir, "blob.bin", "\n", []string{"\x00\x01", key})
	r.commit("first")

	writeLines(t, r.dir, "a.txt", "\n", a[20:]) // delete the first ten keys
	r.write("b.json", nil, 30)
	r.commit("second")

	r.git("checkout", "-q", "-b", "feature")
	r.write("feature/c.env", nil, 20)
	r.commit("unmerged")
	r.git("checkout", "-q", "main")
	r.git("rm", "-q", "b.json")
	r.commit("remove b.json")

	r.git("checkout", "-q", "--detach")
	r.write("tagged.yaml", nil, 10)
	r.commit("tagged only")
	r.git("tag", "only-tag")
	r.git("checkout", "-q", "main")

	r.git("checkout", "-q", "-b", "topic")
	r.write("topic.txt", nil, 10)
	r.commit("topic")
	r.git("checkout", "-q", "main")
	r.git("merge", "-q", "--no-ff", "-m", "merge topic", "topic")

	// Settings that change git log's output must not change what the scan finds.
	for _, kv := range [][2]string{{"diff.noprefix", "true"}, {"log.showRoot", "false"}, {"diff.renames", "copies"},
		{"color.ui", "always"}, {"diff.mnemonicPrefix", "true"}, {"core.quotePath", "true"}} {
		r.git("config", kv[0], kv[1])
	}
	rep := scanOK(t, Options{History: true}, r.dir)
	got := map[string]Finding{}
	for _, f := range rep.Findings {
		if f.Commit == "" {
			continue // the working tree
		}
		if _, dup := got[f.KeyID]; dup {
			t.Errorf("reported twice: %s", f.Location())
		}
		got[f.KeyID] = f
	}
	for id, p := range r.keys {
		f, ok := got[id]
		if !ok {
			t.Errorf("missed key %s committed in %s at %s:%d", id, p.commit[:8], p.path, p.line)
			continue
		}
		if f.Commit != p.commit || f.Path != p.path || f.Line != p.line || f.Column != p.column {
			t.Errorf("key %s: found at %s col %d, committed at %s:%s:%d col %d", id, f.Location(), f.Column,
				p.commit[:12], p.path, p.line, p.column)
		}
	}
	if len(got) != len(r.keys) || len(r.keys) != 120 {
		t.Errorf("found %d keys in history, committed %d", len(got), len(r.keys))
	}
	if rep.Stats.Commits < 7 {
		t.Errorf("read %d commits", rep.Stats.Commits)
	}
	noSecretIn(t, rep, []string{key})
}

// TestHistoryOfASubdirectory scans one directory's history only.
func TestHistoryOfASubdirectory(t *testing.T) {
	r := newRepo(t)
	r.write("inside/a.txt", nil, 3)
	r.write("outside/b.txt", nil, 4)
	r.commit("first")
	rep := scanOK(t, Options{History: true}, filepath.Join(r.dir, "inside"))
	n := 0
	for _, f := range rep.Findings {
		if f.Commit != "" {
			n++
			if f.Path != "inside/a.txt" {
				t.Errorf("history finding outside the path: %s", f.Location())
			}
		}
	}
	if n != 3 {
		t.Errorf("%d history findings, want 3", n)
	}
}

package vcardtest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// CorpusDir returns the directory of real-world vCard files (with valid/
// and invalid/ in it): $KITH_CORPUS/vcard, else ../shared/corpus/vcard
// beside the checkout. The files are other projects' test data and stay
// outside the repository. Where they are absent (a user's clone) the test
// is skipped with a message, but not where KITH_REQUIRE_CORPUS is set (CI):
// there it fails.
func CorpusDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("KITH_CORPUS")
	if dir == "" {
		_, file, _, _ := runtime.Caller(0) // graph/vcard/vcardtest/corpus.go
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "corpus")
	}
	dir = filepath.Join(dir, "vcard")
	if _, err := os.Stat(filepath.Join(dir, "valid")); err != nil {
		if os.Getenv("KITH_REQUIRE_CORPUS") != "" {
			tb.Fatalf("the vCard corpus is not at %s (KITH_REQUIRE_CORPUS is set): %v", dir, err)
		}
		tb.Skipf("the vCard corpus is not at %s; set KITH_CORPUS to the corpus directory to run this test", dir)
	}
	return dir
}

// CorpusFiles returns the .vcf files of the corpus's sub directory
// ("valid" or "invalid"), failing the test if it holds fewer than min.
func CorpusFiles(tb testing.TB, sub string, min int) []string {
	tb.Helper()
	dir := filepath.Join(CorpusDir(tb), sub)
	files, err := filepath.Glob(filepath.Join(dir, "*.vcf"))
	if err != nil || len(files) < min {
		tb.Fatalf("found %d files in %s, want at least %d: %v", len(files), dir, min, err)
	}
	return files
}

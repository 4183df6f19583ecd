package identity

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKeystoreRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		passphrase []byte
		encrypted  bool
	}{
		{"unencrypted", nil, false},
		{"passphrase", testPass, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks := Keystore{Dir: filepath.Join(t.TempDir(), "home", ".kith")}
			if ks.Exists() {
				t.Fatalf("Exists() = true before Save")
			}
			root, err := NewRoot(nil)
			require.NoError(t, err)
			id, err := root.Identity()
			require.NoError(t, err)
			require.NoError(t, ks.Save(id, tc.passphrase))

			if got, want := ks.Path(), filepath.Join(ks.Dir, "identity.key"); got != want {
				t.Errorf("Path() = %s, want %s", got, want)
			}
			if !ks.Exists() {
				t.Errorf("Exists() = false after Save")
			}
			if runtime.GOOS != "windows" {
				assertMode(t, ks.Path(), 0o600)
				assertMode(t, ks.Dir, 0o700)
			}
			enc, err := ks.Encrypted()
			require.NoError(t, err)
			if enc != tc.encrypted {
				t.Errorf("Encrypted() = %v, want %v", enc, tc.encrypted)
			}
			entries, err := os.ReadDir(ks.Dir)
			require.NoError(t, err)
			if len(entries) != 1 {
				t.Errorf("Dir holds %d entries after Save, want only %s", len(entries), KeyFileName)
			}

			got, err := ks.Load(tc.passphrase)
			require.NoError(t, err)
			if got.PeerID() != id.PeerID() || !bytes.Equal(got.Seed(), id.Seed()) {
				t.Errorf("Load() = %s, want %s", got.PeerID(), id.PeerID())
			}
		})
	}
}

func assertMode(tb testing.TB, path string, want os.FileMode) {
	tb.Helper()
	fi, err := os.Stat(path)
	require.NoError(tb, err)
	if got := fi.Mode().Perm(); got != want {
		tb.Errorf("mode of %s = %04o, want %04o", path, got, want)
	}
}

func TestKeystoreLoadErrors(t *testing.T) {
	id := NewTest(t, "keystore")
	plain, err := MarshalKey(id, nil)
	require.NoError(t, err)
	sealed, err := MarshalKey(id, testPass)
	require.NoError(t, err)

	tests := []struct {
		name       string
		setup      func(t *testing.T, path string) // nil: no file
		passphrase []byte
		wantErr    error
		wantText   string
		unixOnly   bool // file modes mean nothing on Windows
	}{
		{name: "missing", wantErr: ErrNoKey, wantText: "kith init"},
		{name: "mode 0644", setup: writeFile(plain, 0o644), wantErr: ErrInsecureKeyFile, wantText: "chmod 600 ", unixOnly: true},
		{name: "mode 0640 sealed", setup: writeFile(sealed, 0o640), passphrase: testPass, wantErr: ErrInsecureKeyFile, wantText: "chmod 600 ", unixOnly: true},
		{name: "mode 0602", setup: writeFile(plain, 0o602), wantErr: ErrInsecureKeyFile, wantText: "chmod 600 ", unixOnly: true},
		{
			name:     "passphrase required",
			setup:    writeFile(sealed, 0o600),
			wantErr:  ErrPassphraseRequired,
			wantText: "passphrase",
		},
		{
			name:       "wrong passphrase",
			setup:      writeFile(sealed, 0o600),
			passphrase: []byte("nope"),
			wantErr:    ErrWrongPassphrase,
		},
		{
			name:    "corrupt",
			setup:   writeFile([]byte(`{"version":1,"type":"ed25519"`), 0o600),
			wantErr: ErrCorruptKey,
		},
		{
			name:    "too large",
			setup:   writeFile(bytes.Repeat([]byte("x"), 1<<20), 0o600),
			wantErr: ErrCorruptKey,
		},
		{
			name: "directory",
			setup: func(t *testing.T, path string) {
				require.NoError(t, os.Mkdir(path, 0o700))
			},
			wantErr: ErrCorruptKey,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.unixOnly && runtime.GOOS == "windows" {
				t.Skip("file modes are not enforced on Windows")
			}
			ks := Keystore{Dir: t.TempDir()}
			if tc.setup != nil {
				tc.setup(t, ks.Path())
			}
			got, err := ks.Load(tc.passphrase)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Load() = %v, %v; want error %v", got, err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("Load() error = %q, want it to contain %q", err, tc.wantText)
			}
			if errors.Is(tc.wantErr, ErrInsecureKeyFile) && !strings.Contains(err.Error(), "chmod 600 "+ks.Path()) {
				t.Errorf("Load() error = %q, want it to name `chmod 600 %s`", err, ks.Path())
			}
		})
	}
}

// writeFile returns a setup that writes data to the key path with mode perm.
func writeFile(data []byte, perm os.FileMode) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		require.NoError(t, os.WriteFile(path, data, perm))
		require.NoError(t, os.Chmod(path, perm)) // whatever the umask
	}
}

func TestKeystoreSaveRefusesOverwrite(t *testing.T) {
	first, second := NewTest(t, "first"), NewTest(t, "second")
	tests := []struct {
		name     string
		existing func(t *testing.T, ks Keystore)
	}{
		{"key file", func(t *testing.T, ks Keystore) { require.NoError(t, ks.Save(first, nil)) }},
		{"sealed key file", func(t *testing.T, ks Keystore) { require.NoError(t, ks.Save(first, testPass)) }},
		{"other file", func(t *testing.T, ks Keystore) { writeFile([]byte("keep me"), 0o600)(t, ks.Path()) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks := Keystore{Dir: t.TempDir()}
			tc.existing(t, ks)
			before, err := os.ReadFile(ks.Path())
			require.NoError(t, err)

			if err := ks.Save(second, nil); !errors.Is(err, ErrKeyExists) {
				t.Fatalf("Save() over an existing file = %v, want %v", err, ErrKeyExists)
			}
			after, err := os.ReadFile(ks.Path())
			require.NoError(t, err)
			if !bytes.Equal(before, after) {
				t.Errorf("Save() changed the existing file")
			}
			entries, err := os.ReadDir(ks.Dir)
			require.NoError(t, err)
			if len(entries) != 1 {
				t.Errorf("Dir holds %d entries, want 1 (no temporary files left)", len(entries))
			}
		})
	}
}

func TestKeystoreConcurrentSave(t *testing.T) {
	ks := Keystore{Dir: filepath.Join(t.TempDir(), "kith")}
	const n = 8
	ids := make([]*Identity, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		ids[i] = NewTest(t, "racer"+string(rune('a'+i)))
		wg.Go(func() { errs[i] = ks.Save(ids[i], nil) })
	}
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("Save() succeeded twice (%d and %d)", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, ErrKeyExists):
			t.Errorf("Save() %d = %v, want nil or %v", i, err, ErrKeyExists)
		}
	}
	if winner < 0 {
		t.Fatalf("no Save() succeeded")
	}
	got, err := ks.Load(nil)
	require.NoError(t, err)
	if got.PeerID() != ids[winner].PeerID() {
		t.Errorf("Load() = %s, want the winner %s", got.PeerID(), ids[winner].PeerID())
	}
}

func TestKeystoreEncryptedErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		wantErr error
	}{
		{"missing", nil, ErrNoKey},
		{"garbage", writeFile([]byte("garbage"), 0o600), ErrCorruptKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks := Keystore{Dir: t.TempDir()}
			if tc.setup != nil {
				tc.setup(t, ks.Path())
			}
			if _, err := ks.Encrypted(); !errors.Is(err, tc.wantErr) {
				t.Errorf("Encrypted() error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestPassphraseFromEnv(t *testing.T) {
	tests := []struct {
		name   string
		set    bool
		value  string
		want   []byte
		wantOK bool
	}{
		{"unset", false, "", nil, false},
		{"empty", true, "", []byte{}, true},
		{"value", true, "s3cret phrase", []byte("s3cret phrase"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(PassphraseEnv, tc.value) // restores the old value on cleanup
			if !tc.set {
				require.NoError(t, os.Unsetenv(PassphraseEnv))
			}
			got, ok := PassphraseFromEnv()
			if ok != tc.wantOK || !bytes.Equal(got, tc.want) {
				t.Errorf("PassphraseFromEnv() = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// TestKeystoreSaveMarshaled: a key file as MarshalKey wrote it is saved
// byte for byte (0600, no temporary file left), loads under its own
// passphrase, and never replaces a key file.
func TestKeystoreSaveMarshaled(t *testing.T) {
	id := NewTest(t, "marshaled")
	data, err := MarshalKey(id, testPass)
	require.NoError(t, err)
	ks := Keystore{Dir: filepath.Join(t.TempDir(), "home")}
	require.NoError(t, ks.SaveMarshaled(data))
	got, err := os.ReadFile(ks.Path())
	require.NoError(t, err)
	require.Equal(t, data, got)
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(ks.Path())
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}
	loaded, err := ks.Load(testPass)
	require.NoError(t, err)
	require.Equal(t, id.PeerID(), loaded.PeerID())
	entries, err := os.ReadDir(ks.Dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)

	other, err := MarshalKey(NewTest(t, "other"), testPass)
	require.NoError(t, err)
	require.ErrorIs(t, ks.SaveMarshaled(other), ErrKeyExists)
	got, err = os.ReadFile(ks.Path())
	require.NoError(t, err)
	require.Equal(t, data, got)
}

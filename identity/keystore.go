package identity

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// KeyFileName is the name of the key file inside a Keystore's directory.
const KeyFileName = "identity.key"

// PassphraseEnv names the environment variable that may hold the key file
// passphrase, for scripts and services that cannot prompt.
const PassphraseEnv = "KITH_PASSPHRASE"

// Keystore is the identity key file in Dir ($KITH_HOME): Dir/identity.key,
// mode 0600. The zero value means the current directory. Methods do plain
// file I/O; concurrent Saves are safe in that at most one succeeds.
type Keystore struct {
	// Dir is the directory holding the key file; Save creates it (0700).
	Dir string
}

// Path returns the key file path, Dir/identity.key.
func (k Keystore) Path() string { return filepath.Join(k.Dir, KeyFileName) }

// Exists reports whether something is at the key file path.
func (k Keystore) Exists() bool {
	_, err := os.Lstat(k.Path())
	return err == nil
}

// Save writes id to the key file, sealed with passphrase (an empty passphrase
// writes the seed in the clear). It creates Dir with mode 0700 if missing and
// never replaces an existing key file ([ErrKeyExists]). The write is atomic:
// a 0600 temporary file is written and synced, then linked (or renamed) into
// place, and the directory synced, so a crash leaves either no key file or a
// complete one.
func (k Keystore) Save(id *Identity, passphrase []byte) error {
	path := k.Path()
	if k.Exists() {
		return fmt.Errorf("saving key to %s: %w", path, ErrKeyExists)
	}
	data, err := MarshalKey(id, passphrase)
	if err != nil {
		return fmt.Errorf("saving key to %s: %w", path, err)
	}
	defer clear(data)
	return k.write(data)
}

// SaveMarshaled writes data, a key file exactly as [MarshalKey] wrote it,
// as Save writes one (never replacing a key file, atomically), without
// sealing the key again: an import, which opened the key file of an
// export with [ParseKey] already, keeps it under the export's passphrase
// without a second Argon2 run. Data the caller has not opened with
// ParseKey must not be saved: nothing here checks it.
func (k Keystore) SaveMarshaled(data []byte) error {
	if k.Exists() {
		return fmt.Errorf("saving key to %s: %w", k.Path(), ErrKeyExists)
	}
	return k.write(data)
}

// write writes the key file data (see Save).
func (k Keystore) write(data []byte) error {
	path := k.Path()
	dir := k.Dir
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating key directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+KeyFileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating temporary key file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a successful link this only drops the temporary name
	if err := writeSynced(tmp, data); err != nil {
		return fmt.Errorf("writing temporary key file %s: %w", tmpName, err)
	}
	if err := publishNoReplace(tmpName, path); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("syncing key directory %s: %w", dir, err)
	}
	return nil
}

// writeSynced writes data to f with mode 0600, syncs and closes it.
func writeSynced(f *os.File, data []byte) error {
	err := f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// publishNoReplace gives the complete file tmp the name path without ever
// replacing an existing path. A hard link fails atomically if path exists;
// where links are unsupported it falls back to checking and renaming.
func publishNoReplace(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("saving key to %s: %w", path, ErrKeyExists)
	}
	if _, serr := os.Lstat(path); serr == nil {
		return fmt.Errorf("saving key to %s: %w", path, ErrKeyExists)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming key file into %s: %w", path, err)
	}
	return nil
}

// syncDir makes a new directory entry durable. Windows cannot sync a
// directory, and does not need to.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Load reads and opens the key file. Errors: [ErrNoKey] if there is none,
// [ErrInsecureKeyFile] if group or other users have any access to it (fix it
// with chmod 600), [ErrPassphraseRequired], [ErrWrongPassphrase] and
// [ErrCorruptKey] as for [ParseKey].
func (k Keystore) Load(passphrase []byte) (*Identity, error) {
	data, err := k.read(true)
	if err != nil {
		return nil, err
	}
	defer clear(data)
	id, err := ParseKey(data, passphrase)
	if err != nil {
		return nil, fmt.Errorf("loading key file %s: %w", k.Path(), err)
	}
	return id, nil
}

// Encrypted reports whether the key file is sealed with a passphrase, so a
// caller knows whether to ask for one. It returns [ErrNoKey] if there is no
// key file and [ErrCorruptKey] if it cannot be parsed.
func (k Keystore) Encrypted() (bool, error) {
	data, err := k.read(false)
	if err != nil {
		return false, err
	}
	defer clear(data)
	kf, err := decodeKeyFile(data, fileLimits)
	if err != nil {
		return false, fmt.Errorf("reading key file %s: %w", k.Path(), err)
	}
	return kf.KDF != kdfNone, nil
}

// read returns at most MaxKeyFileSize+1 bytes of the key file, checking that
// it is a regular file and, if checkMode, that only its owner can access it.
func (k Keystore) read(checkMode bool) ([]byte, error) {
	path := k.Path()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading key file %s: %w", path, ErrNoKey)
	}
	if err != nil {
		return nil, fmt.Errorf("reading key file %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("reading key file %s: %w: not a regular file", path, ErrCorruptKey)
	}
	if checkMode && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; run `chmod 600 %s`",
			ErrInsecureKeyFile, path, fi.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading key file %s: %w", path, err)
	}
	return data, nil
}

// PassphraseFromEnv returns the passphrase in $KITH_PASSPHRASE. ok reports
// whether the variable is set at all: set but empty means "no passphrase",
// i.e. an unencrypted key file, and callers should not prompt.
func PassphraseFromEnv() (passphrase []byte, ok bool) {
	v, ok := os.LookupEnv(PassphraseEnv)
	if !ok {
		return nil, false
	}
	return []byte(v), true
}

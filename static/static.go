// Package static holds the console's embedded stylesheets and scripts.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

// FS holds css/ and js/, served under /static.
//
//go:embed css js
var FS embed.FS

// Version is a short content hash of every embedded file. Pages append it to
// asset URLs (?v=…) so the assets can be cached for a year and still change
// with each release.
func Version() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := FS.ReadFile(path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

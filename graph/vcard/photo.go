package vcard

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // photos in GIF
	"image/jpeg"
	_ "image/png" // photos in PNG
	"strings"

	_ "golang.org/x/image/bmp"  // photos from old phones
	"golang.org/x/image/draw"   // scaling
	_ "golang.org/x/image/webp" // photos from Android
)

// Limits on images (photos, logos) read from a card.
const (
	// MaxPhotoSize is the largest image Decode takes, decoded.
	MaxPhotoSize = 10 << 20
	// maxImageURI is how long a data: URI may be to be kept as it is: it
	// must fit an entry (spec.MaxEntrySize) beside the card's other fields.
	maxImageURI = 40 << 10
	// maxImageMemory refuses to decode an image whose header promises
	// more pixels than this many bytes hold, at its bytes per pixel (a
	// decompression bomb): 64 MiB is a 16-megapixel photo.
	maxImageMemory = 64 << 20
)

// imageSlots lets one image at a time be decoded and scaled, whatever the
// number of workers, so that memory stays bounded by maxImageMemory.
var imageSlots = make(chan struct{}, 1)

// fitImage returns a data: URI image that fits an entry: uri itself if it
// is small enough, else the image scaled down (aspect ratio kept) and
// written as JPEG. It warns about what it did, and returns uri unchanged,
// with a warning, when it cannot (the card's check then tells the size).
func (d *cardDecoder) fitImage(no int, prop, uri string) string {
	if len(uri) <= maxImageURI {
		return uri
	}
	header, b64, ok := strings.Cut(uri, ",")
	if !ok || !strings.HasSuffix(strings.ToLower(header), ";base64") {
		return uri
	}
	data, err := decodeBase64(b64)
	if err != nil {
		return uri
	}
	if len(data) > MaxPhotoSize {
		d.warn(no, "%s: %s is over the %s limit; left out", prop, size(len(data)), size(MaxPhotoSize))
		return ""
	}
	out, w, h, err := shrink(data, maxImageURI)
	if err != nil {
		d.warn(no, "%s: cannot scale the %s image down to fit (%v)", prop, size(len(data)), err)
		return uri
	}
	d.warn(no, "%s scaled down from %s to %s (%d×%d JPEG) to fit an entry", prop, size(len(data)), size(len(out)), w, h)
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(out)
}

// shrink scales an image down until, as JPEG in base64, it fits in limit
// bytes (less a data: URI header).
func shrink(data []byte, limit int) (out []byte, w, h int, err error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, 0, 0, err
	}
	bpp := 4
	switch cfg.ColorModel {
	case color.RGBA64Model, color.NRGBA64Model, color.Gray16Model:
		bpp = 8
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height)*int64(bpp) > maxImageMemory {
		return nil, 0, 0, fmt.Errorf("%d×%d pixels is over the limit", cfg.Width, cfg.Height)
	}
	imageSlots <- struct{}{}
	defer func() { <-imageSlots }()
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, 0, 0, err
	}
	budget := (limit - 32) / 4 * 3 // base64 and the URI header
	long := max(cfg.Width, cfg.Height)
	for _, side := range []int{1024, 768, 512, 384, 256, 192, 128, 96, 64, 48} {
		if side > long {
			continue
		}
		w, h = cfg.Width*side/long, cfg.Height*side/long
		dst := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
		for _, q := range []int{85, 70} {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: q}); err != nil {
				return nil, 0, 0, err
			}
			if buf.Len() <= budget {
				return buf.Bytes(), dst.Bounds().Dx(), dst.Bounds().Dy(), nil
			}
		}
	}
	return nil, 0, 0, fmt.Errorf("it does not fit even at 48 pixels")
}

// size renders a byte count for people.
func size(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

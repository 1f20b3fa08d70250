// Package icon draws fse's icon, a white report on the portal's blue, and
// encodes it as the files browsers and phones ask for: favicon.ico, the
// home-screen icon (apple-touch-icon.png) and the web manifest's icons.
// The files are generated once (go generate in views) and committed; a
// test checks that they are still what this package draws.
package icon

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

// Colours of the icon: the stylesheet's accent, white, and a pale blue
// for the page's folded corner.
var (
	accent = color.NRGBA{0x0b, 0x5c, 0xad, 0xff}
	paper  = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	fold   = color.NRGBA{0xc9, 0xdc, 0xf2, 0xff}
	clear  = color.NRGBA{}
)

// supersample is how many samples per pixel side the edges are smoothed
// with.
const supersample = 4

// Draw draws the icon size pixels wide and high. Rounded gives it
// transparent rounded corners (the favicon, the manifest's icons); a
// home-screen icon for iOS is a full square, which the phone rounds.
func Draw(size int, rounded bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	n := supersample * supersample
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var r, g, b, a int
			for sy := 0; sy < supersample; sy++ {
				for sx := 0; sx < supersample; sx++ {
					u := (float64(x) + (float64(sx)+0.5)/supersample) / float64(size)
					v := (float64(y) + (float64(sy)+0.5)/supersample) / float64(size)
					c := at(u, v, rounded)
					// Premultiplied sums, so transparent samples add no colour.
					r += int(c.R) * int(c.A)
					g += int(c.G) * int(c.A)
					b += int(c.B) * int(c.A)
					a += int(c.A)
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(r / a), uint8(g / a), uint8(b / a), uint8(a / n)})
		}
	}
	return img
}

// at is the icon's colour at (u, v), both from 0 to 1.
func at(u, v float64, rounded bool) color.NRGBA {
	if rounded && !inRoundedSquare(u, v, 0.2) {
		return clear
	}
	// The page, with its top right corner folded.
	const left, right, top, bottom, corner = 0.25, 0.75, 0.16, 0.84, 0.16
	if u < left || u > right || v < top || v > bottom {
		return accent
	}
	if u > right-corner && v < top+corner {
		// Above the fold's diagonal is the background; below, the fold.
		if (u-(right-corner))-(v-top) > 0 {
			return accent
		}
		return fold
	}
	// Three lines of text, the last one shorter.
	for i, end := range []float64{0.65, 0.65, 0.55} {
		y := 0.44 + float64(i)*0.12
		if v >= y && v <= y+0.055 && u >= 0.35 && u <= end {
			return accent
		}
	}
	return paper
}

// inRoundedSquare reports whether (u, v) is inside the unit square with
// corners of radius r.
func inRoundedSquare(u, v, r float64) bool {
	cx := math.Min(math.Max(u, r), 1-r)
	cy := math.Min(math.Max(v, r), 1-r)
	return math.Hypot(u-cx, v-cy) <= r
}

// PNG encodes img.
func PNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode icon: %w", err)
	}
	return buf.Bytes(), nil
}

// ICO packs PNG images into an .ico file (PNG entries, which every
// browser of the last decade reads).
func ICO(images ...image.Image) ([]byte, error) {
	var head, body bytes.Buffer
	// ICONDIR: reserved, type 1 (icon), count.
	_ = binary.Write(&head, binary.LittleEndian, [3]uint16{0, 1, uint16(len(images))})
	offset := 6 + 16*len(images)
	for _, img := range images {
		p, err := PNG(img)
		if err != nil {
			return nil, err
		}
		w, h := img.Bounds().Dx(), img.Bounds().Dy()
		if w > 256 || h > 256 {
			return nil, fmt.Errorf("ico entry %dx%d: at most 256 pixels a side", w, h)
		}
		// ICONDIRENTRY: width, height (0 means 256), colours, reserved,
		// planes, bits per pixel, size, offset.
		_ = binary.Write(&head, binary.LittleEndian, struct {
			W, H, Colors, Reserved uint8
			Planes, Bits           uint16
			Size, Offset           uint32
		}{uint8(w % 256), uint8(h % 256), 0, 0, 1, 32, uint32(len(p)), uint32(offset)})
		body.Write(p)
		offset += len(p)
	}
	return append(head.Bytes(), body.Bytes()...), nil
}

// Files are the icon's files by name, as views/static holds them.
func Files() (map[string][]byte, error) {
	ico, err := ICO(Draw(16, true), Draw(32, true), Draw(48, true))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{"favicon.ico": ico}
	for name, img := range map[string]image.Image{
		"apple-touch-icon.png": Draw(180, false),
		"icon-192.png":         Draw(192, true),
		"icon-512.png":         Draw(512, true),
	} {
		if files[name], err = PNG(img); err != nil {
			return nil, err
		}
	}
	return files, nil
}

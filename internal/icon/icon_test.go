package icon

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedFilesAreWhatThePackageDraws fails when views/static holds
// icon files this package would no longer make: run go generate in views.
// Pixels are compared, not bytes, so a new PNG encoder does not fail it.
func TestCommittedFilesAreWhatThePackageDraws(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", "views", "static", name))
		if err != nil {
			t.Fatalf("%s: %v (run go generate ./views)", name, err)
		}
		gotImgs, wantImgs := decodeAll(t, name, got), decodeAll(t, name, want)
		if len(gotImgs) != len(wantImgs) {
			t.Fatalf("%s has %d images, want %d (run go generate ./views)", name, len(gotImgs), len(wantImgs))
		}
		for i := range wantImgs {
			if !samePixels(gotImgs[i], wantImgs[i]) {
				t.Errorf("%s image %d differs from what package icon draws (run go generate ./views)", name, i)
			}
		}
	}
}

// TestIconSizes checks the sizes browsers and phones ask for: 16, 32 and
// 48 in the favicon, 180 for iOS's home screen, 192 and 512 for Android's.
func TestIconSizes(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"favicon.ico": {16, 32, 48}, "apple-touch-icon.png": {180}, "icon-192.png": {192}, "icon-512.png": {512}}
	for name, sizes := range want {
		imgs := decodeAll(t, name, files[name])
		if len(imgs) != len(sizes) {
			t.Fatalf("%s: %d images, want %d", name, len(imgs), len(sizes))
		}
		for i, s := range sizes {
			if b := imgs[i].Bounds(); b.Dx() != s || b.Dy() != s {
				t.Errorf("%s image %d is %dx%d, want %dx%d", name, i, b.Dx(), b.Dy(), s, s)
			}
		}
	}
}

// TestHomeScreenIconIsOpaque: iOS fills a transparent home-screen icon
// with black, so the apple-touch-icon has no transparent pixel.
func TestHomeScreenIconIsOpaque(t *testing.T) {
	img := Draw(180, false)
	for y := 0; y < 180; y++ {
		for x := 0; x < 180; x++ {
			if img.NRGBAAt(x, y).A != 0xff {
				t.Fatalf("pixel (%d,%d) is not opaque", x, y)
			}
		}
	}
	if Draw(32, true).NRGBAAt(0, 0).A != 0 {
		t.Error("the favicon's corner is not transparent: the corners are not rounded")
	}
}

// decodeAll decodes a PNG, or every PNG entry of an .ico file.
func decodeAll(t *testing.T, name string, b []byte) []image.Image {
	t.Helper()
	if filepath.Ext(name) != ".ico" {
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return []image.Image{img}
	}
	var dir [3]uint16
	if err := binary.Read(bytes.NewReader(b), binary.LittleEndian, &dir); err != nil || dir[1] != 1 {
		t.Fatalf("%s: not an icon file (%v, %v)", name, dir, err)
	}
	var out []image.Image
	for i := 0; i < int(dir[2]); i++ {
		e := b[6+16*i : 6+16*(i+1)]
		size := binary.LittleEndian.Uint32(e[8:12])
		off := binary.LittleEndian.Uint32(e[12:16])
		img, err := png.Decode(bytes.NewReader(b[off : off+size]))
		if err != nil {
			t.Fatalf("%s entry %d: %v", name, i, err)
		}
		if w := int(e[0]); w != img.Bounds().Dx() {
			t.Errorf("%s entry %d says %d pixels wide, its PNG is %d", name, i, w, img.Bounds().Dx())
		}
		out = append(out, img)
	}
	return out
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return false
			}
		}
	}
	return true
}

package views

// The icon files in static/ (favicon.ico, apple-touch-icon.png and the
// manifest's icon-192.png and icon-512.png) are drawn by fse/internal/icon,
// whose test checks that the committed files are still what it draws.
//go:generate go run ../internal/icon/gen -out static

package handlers

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"

	"fse/views"
)

// The files browsers, phones and crawlers ask for at the site's root: the
// icons (drawn by internal/icon, kept in views/static), the web manifest,
// and robots.txt.

// robotsTxt lets crawlers index the home page only: every other page is
// a step of a patient's private business, or behind login.
const robotsTxt = `# Referti online: only the home page may be indexed.
User-agent: *
Allow: /$
Disallow: /
`

// rootFiles are the static files served at the root, with their type.
var rootFiles = map[string]string{
	"favicon.ico":          "image/x-icon",
	"apple-touch-icon.png": "image/png",
	"manifest.webmanifest": "application/manifest+json",
}

// siteFileRoutes registers /robots.txt and the root files.
func (h *Handler) siteFileRoutes(e *echo.Echo) {
	e.GET("/robots.txt", func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(robotsTxt))
	})
	for name, typ := range rootFiles {
		e.GET("/"+name, rootFile(name, typ))
	}
	// Some phones ask for this name whatever the page says.
	e.GET("/apple-touch-icon-precomposed.png", rootFile("apple-touch-icon.png", "image/png"))
}

func rootFile(name, typ string) echo.HandlerFunc {
	return func(c echo.Context) error {
		b, err := fs.ReadFile(views.Static, "static/"+name)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=86400")
		return c.Blob(http.StatusOK, typ, b)
	}
}

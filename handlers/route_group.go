package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// routeGroup registers routes under a prefix with middleware of their own,
// like an echo.Group but without the catch-all routes echo.Group.Use adds
// so that group middleware also runs for unknown paths: those catch-alls
// answer 404 where a path exists with other methods. Without them the
// router answers 405 with an Allow header for a method a known path does
// not have (TRACE included), and 404 for an unknown path.
type routeGroup struct {
	e          *echo.Echo
	prefix     string
	middleware []echo.MiddlewareFunc
}

func newRouteGroup(e *echo.Echo, prefix string, m ...echo.MiddlewareFunc) *routeGroup {
	return &routeGroup{e: e, prefix: prefix, middleware: m}
}

// Group returns a group under g's prefix with g's middleware, then m.
func (g *routeGroup) Group(prefix string, m ...echo.MiddlewareFunc) *routeGroup {
	return newRouteGroup(g.e, g.prefix+prefix, g.with(m)...)
}

func (g *routeGroup) with(m []echo.MiddlewareFunc) []echo.MiddlewareFunc {
	return append(append([]echo.MiddlewareFunc(nil), g.middleware...), m...)
}

func (g *routeGroup) add(method, path string, h echo.HandlerFunc, m []echo.MiddlewareFunc) *echo.Route {
	return g.e.Add(method, g.prefix+path, h, g.with(m)...)
}

// GET registers a GET route.
func (g *routeGroup) GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return g.add(http.MethodGet, path, h, m)
}

// POST registers a POST route.
func (g *routeGroup) POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return g.add(http.MethodPost, path, h, m)
}

// PUT registers a PUT route.
func (g *routeGroup) PUT(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return g.add(http.MethodPut, path, h, m)
}

// DELETE registers a DELETE route.
func (g *routeGroup) DELETE(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return g.add(http.MethodDelete, path, h, m)
}

package handlers

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// RequestObserver records each answered request for the metrics: its
// method, route pattern, status and time. route is a pattern such as
// /fascicolo/referti/:id, or "unmatched" for a path no route has, never
// the request's own path (it may hold an id, a token, a codice fiscale).
type RequestObserver interface {
	ObserveRequest(method, route string, status int, elapsed time.Duration)
}

// unmatchedRoute labels requests no route answers (404, 405).
const unmatchedRoute = "unmatched"

// observeRequests is the outermost middleware: it sees every answer,
// including the 500 of a recovered panic.
func (h *Handler) observeRequests(e *echo.Echo) echo.MiddlewareFunc {
	var once sync.Once
	var routes map[string]bool
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			// Routes are all registered before the first request.
			once.Do(func() {
				routes = map[string]bool{}
				for _, r := range e.Routes() {
					routes[r.Method+" "+r.Path] = true
				}
			})
			req, res := c.Request(), c.Response()
			status := res.Status
			if err != nil && !res.Committed {
				status = http.StatusInternalServerError
				var he *echo.HTTPError
				if errors.As(err, &he) {
					status = he.Code
				}
			}
			route := c.Path()
			if !routes[req.Method+" "+route] && !(req.Method == http.MethodHead && routes[http.MethodGet+" "+route]) {
				route = unmatchedRoute
			}
			h.Requests.ObserveRequest(req.Method, route, status, time.Since(start))
			return err
		}
	}
}

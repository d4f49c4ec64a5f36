package handlers

import (
	"context"
	"log/slog"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// requestLogger logs one line per request: never the query string (OAuth
// codes travel there), cookies, Authorization or bodies.
func (h *handler) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		Skipper:      func(c echo.Context) bool { return isInfraPath(c.Request().URL.Path) },
		LogStatus:    true,
		LogMethod:    true,
		LogURIPath:   true,
		LogRoutePath: true,
		LogRequestID: true,
		LogRemoteIP:  true,
		LogLatency:   true,
		LogError:     true,
		HandleError:  true, // status reflects what the error handler answered
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("request_id", v.RequestID), slog.String("method", v.Method),
				slog.String("path", v.URIPath), slog.String("route", v.RoutePath),
				slog.Int("status", v.Status), slog.Duration("latency", v.Latency),
				slog.String("remote_ip", v.RemoteIP),
			}
			if u := currentUser(c); u != nil {
				attrs = append(attrs, slog.Int64("user_id", u.ID))
			}
			h.log.LogAttrs(context.WithoutCancel(c.Request().Context()), level, "http request", attrs...)
			return nil
		},
	})
}

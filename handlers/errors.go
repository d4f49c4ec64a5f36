package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"privilege/models"
	"privilege/views"
)

// errorCode is the machine-readable code of a JSON error.
type errorCode string

// JSON error codes.
const (
	codeBadRequest       errorCode = "bad_request"
	codeUnauthorized     errorCode = "unauthorized"
	codeForbidden        errorCode = "forbidden"
	codeNotFound         errorCode = "not_found"
	codeMethodNotAllowed errorCode = "method_not_allowed"
	codeConflict         errorCode = "conflict"
	codeTooLarge         errorCode = "body_too_large"
	codeValidation       errorCode = "validation_failed"
	codeUnsupportedMedia errorCode = "unsupported_media_type"
	codeRateLimited      errorCode = "rate_limited"
	codeSetupRequired    errorCode = "setup_required"
	codeUnavailable      errorCode = "unavailable"
	codeInternal         errorCode = "internal"
)

// apiError is an error with an explicit status and user-safe message. Any
// handler may return one; handleError renders it as JSON or as a page.
type apiError struct {
	Status  int
	Code    errorCode
	Message string
	Fields  map[string]string
}

func (e *apiError) Error() string { return string(e.Code) + ": " + e.Message }

func newAPIError(status int, code errorCode, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    errorCode         `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// classify turns any error into what the user may see. The returned
// message never contains err.Error() of an unexpected error.
func classify(err error) *apiError {
	var ae *apiError
	var ve *models.ValidationError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ve):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: codeValidation, Message: "Some fields are not valid.", Fields: ve.Fields}
	case errors.Is(err, models.ErrNotFound):
		return newAPIError(http.StatusNotFound, codeNotFound, "This page or item does not exist.")
	case errors.Is(err, models.ErrConflict), errors.Is(err, models.ErrDuplicate), errors.Is(err, models.ErrSetupDone):
		return newAPIError(http.StatusConflict, codeConflict, conflictMessage(err))
	case errors.Is(err, models.ErrInvalidToken):
		return newAPIError(http.StatusUnauthorized, codeUnauthorized, "The bearer token is missing, invalid or revoked.")
	case errors.As(err, &he):
		return fromHTTPError(he)
	}
	return newAPIError(http.StatusInternalServerError, codeInternal, "Something went wrong on our side.")
}

func conflictMessage(err error) string {
	switch {
	case errors.Is(err, models.ErrSetupDone):
		return "Setup has already been completed."
	case errors.Is(err, models.ErrDuplicate):
		return "This already exists."
	}
	return "This was changed or is still in use; reload and try again."
}

func fromHTTPError(he *echo.HTTPError) *apiError {
	switch he.Code {
	case http.StatusNotFound:
		return newAPIError(he.Code, codeNotFound, "This page or item does not exist.")
	case http.StatusMethodNotAllowed:
		return newAPIError(he.Code, codeMethodNotAllowed, "This method is not allowed here.")
	case http.StatusRequestEntityTooLarge:
		return newAPIError(he.Code, codeTooLarge, "The request body is too large.")
	case http.StatusForbidden:
		return newAPIError(he.Code, codeForbidden, "You are not allowed to do this.")
	case http.StatusUnauthorized:
		return newAPIError(he.Code, codeUnauthorized, "Authentication is required.")
	case http.StatusTooManyRequests:
		return newAPIError(he.Code, codeRateLimited, "Too many requests; wait a moment and try again.")
	case http.StatusUnsupportedMediaType:
		return newAPIError(he.Code, codeUnsupportedMedia, "Send the body as application/json.")
	}
	if he.Code >= 400 && he.Code < 500 {
		return newAPIError(he.Code, codeBadRequest, "The request could not be understood.")
	}
	return newAPIError(http.StatusInternalServerError, codeInternal, "Something went wrong on our side.")
}

// statusOf is the status an error will be answered with.
func statusOf(err error) int { return classify(err).Status }

func isAPIPath(path string) bool { return path == "/api" || strings.HasPrefix(path, "/api/") }

// handleError is the only place that renders errors to users.
func (h *handler) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return // already answered (the request logger handles errors first)
	}
	ae := classify(err)
	if ae.Status >= 500 {
		h.log.ErrorContext(c.Request().Context(), "request failed",
			"request_id", requestID(c), "method", c.Request().Method, "route", c.Path(), "error", err)
	}
	if ae.Status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="privilege"`)
	}
	var rerr error
	switch {
	case c.Request().Method == http.MethodHead:
		rerr = c.NoContent(ae.Status)
	case isAPIPath(c.Request().URL.Path) || isWebhookPath(c.Request().URL.Path) || !acceptsHTML(c):
		rerr = c.JSON(ae.Status, errorBody{Error: errorDetail{Code: ae.Code, Message: ae.Message, Fields: ae.Fields}})
	default:
		rerr = render(c, ae.Status, views.Error(views.ErrorPage{
			Meta: h.pageMeta(c, errorTitle(ae.Status), views.NavNone), Status: ae.Status,
			Title: errorTitle(ae.Status), Message: pageMessage(ae),
		}))
	}
	if rerr != nil {
		h.log.ErrorContext(c.Request().Context(), "render error", "request_id", requestID(c), "error", rerr)
	}
}

// acceptsHTML is false for clients that clearly want JSON only.
func acceptsHTML(c echo.Context) bool {
	a := c.Request().Header.Get(echo.HeaderAccept)
	return a == "" || strings.Contains(a, "text/html") || strings.Contains(a, "*/*")
}

func errorTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusTooManyRequests:
		return "Too many attempts"
	case http.StatusMethodNotAllowed:
		return "Method not allowed"
	case http.StatusRequestEntityTooLarge:
		return "Too large"
	case http.StatusConflict:
		return "Conflict"
	}
	if status >= 500 {
		return "Something went wrong"
	}
	return "Bad request"
}

func pageMessage(ae *apiError) string {
	switch ae.Status {
	case http.StatusNotFound:
		return "The page or item you asked for does not exist or was deleted."
	}
	if ae.Status >= 500 {
		return "The error has been logged. If it keeps happening, give this request ID to your administrator."
	}
	return ae.Message
}

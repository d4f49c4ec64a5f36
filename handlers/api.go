package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/labstack/echo/v4"

	"privilege/models"
)

// authenticateBearer resolves "Authorization: Bearer prv_…" to its user.
// Cookies are never read on /api.
func (h *handler) authenticateBearer(c echo.Context) (*models.User, error) {
	scheme, token, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, newProblem(codeUnauthorized, "Send an API token as \"Authorization: Bearer prv_…\".")
	}
	t, err := h.store.AuthenticateToken(c.Request().Context(), strings.TrimSpace(token))
	if err != nil {
		return nil, err // ErrInvalidToken → 401
	}
	setCurrentToken(c, &t)
	setCurrentUser(c, &t.User)
	return &t.User, nil
}

// decodeJSON reads a JSON body into dst, rejecting unknown fields, trailing
// data and bodies over the limit, with a message naming the problem.
func decodeJSON(c echo.Context, dst any) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return problemFor(codeUnsupportedMedia)
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if dec.Decode(&struct{}{}) != io.EOF {
			return badJSON("The body must hold a single JSON object.", nil)
		}
		return nil
	}
	var he *echo.HTTPError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &he):
		return he // 413 from the body limit
	case errors.Is(err, io.EOF):
		return badJSON("The request body is empty; send a JSON object.", nil)
	case errors.As(err, &syn):
		return badJSON(fmt.Sprintf("The body is not valid JSON (at byte %d).", syn.Offset), nil)
	case errors.As(err, &typ):
		return badJSON(fmt.Sprintf("Field %q must be %s.", typ.Field, typ.Type), map[string]string{typ.Field: "must be " + typ.Type.String()})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badJSON(fmt.Sprintf("Unknown field %q.", field), map[string]string{field: "unknown field"})
	}
	return badJSON("The body is not valid JSON.", nil)
}

func badJSON(msg string, fields map[string]string) error {
	return newProblem(codeBadRequest, msg).withFields(fields)
}

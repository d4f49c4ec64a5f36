package handlers

import (
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/labstack/echo/v4"

	"privilege/models"
)

// A known device is a browser that has signed in to an account before: on
// success it gets a long-lived cookie naming the account (encrypted and
// signed with the session keys). A sign-in to that account from that
// browser skips the sign-in throttle, so an attacker who locks an account,
// or the office address, does not lock out the people who really use it
// (OWASP's "device cookies"). An attacker has no such cookie: they never
// signed in as the victim. Failures are still counted.
const (
	deviceCookieName     = "privilege_device"
	hostDeviceCookieName = "__Host-" + deviceCookieName
	deviceCookieTTL      = 90 * 24 * time.Hour
)

// deviceClaim is the device cookie's content.
type deviceClaim struct {
	Email string `json:"e"`
}

func (h *handler) deviceCookieName() string {
	if h.secure {
		return hostDeviceCookieName
	}
	return deviceCookieName
}

func (h *handler) deviceCodecs() []securecookie.Codec {
	codecs := securecookie.CodecsFromPairs(h.cfg.SessionKeys...)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(deviceCookieTTL / time.Second)).SetSerializer(securecookie.JSONEncoder{})
		}
	}
	return codecs
}

// knownDevice reports whether this browser has signed in as email before.
func (h *handler) knownDevice(c echo.Context, email string) bool {
	ck, err := c.Cookie(h.deviceCookieName())
	if err != nil {
		return false
	}
	var claim deviceClaim
	if securecookie.DecodeMulti(h.deviceCookieName(), ck.Value, &claim, h.deviceCodecs()...) != nil {
		return false
	}
	return claim.Email != "" && claim.Email == models.NormalizeEmail(email)
}

// rememberDevice marks this browser as known for email (after a successful sign-in).
func (h *handler) rememberDevice(c echo.Context, email string) error {
	v, err := securecookie.EncodeMulti(h.deviceCookieName(), deviceClaim{Email: models.NormalizeEmail(email)}, h.deviceCodecs()...)
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: h.deviceCookieName(), Value: v, Path: "/", MaxAge: int(deviceCookieTTL / time.Second),
		HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode})
	return nil
}

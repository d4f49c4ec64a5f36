package jira

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Verifying webhook deliveries (design.md §9). A delivery that fails
// verification changes nothing; one that passes only names an issue.

// ErrBadDelivery is a webhook delivery that failed verification.
var ErrBadDelivery = errors.New("jira: webhook delivery failed verification")

// deliveryLeeway tolerates clock skew on exp, iat and nbf.
const deliveryLeeway = 30 * time.Second

// VerifyCloudWebhook checks a Cloud dynamic-webhook delivery's
// "Authorization: Bearer <JWT>" header against the operator's Atlassian app:
// the JWT must be HS256 (no other algorithm, never "none"), signed with the
// app's client secret (so it is for our app), and carry an exp not yet past;
// iat and nbf, when present, must not be in the future. jira-api.md §5: the
// claim set is otherwise undocumented, so nothing else is relied on.
func (o *OAuth) VerifyCloudWebhook(authorization string, now time.Time) error {
	if o.cfg.CloudClientSecret == "" {
		return fmt.Errorf("%w: no Atlassian app is configured", ErrBadDelivery)
	}
	token, found := strings.CutPrefix(authorization, "Bearer ")
	if !found || token == "" {
		return fmt.Errorf("%w: no bearer token", ErrBadDelivery)
	}
	return VerifyHS256(strings.TrimSpace(token), o.cfg.CloudClientSecret, now)
}

// VerifyHS256 verifies a compact JWT signed with HMAC-SHA256 under secret,
// with a required, unexpired exp.
func VerifyHS256(token, secret string, now time.Time) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%w: not a JWT", ErrBadDelivery)
	}
	enc := base64.RawURLEncoding
	rawHeader, err := enc.DecodeString(parts[0])
	if err != nil {
		return fmt.Errorf("%w: bad JWT header encoding", ErrBadDelivery)
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(rawHeader, &header) != nil || header.Alg != "HS256" {
		return fmt.Errorf("%w: JWT algorithm %q is not HS256", ErrBadDelivery, header.Alg)
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: bad JWT signature encoding", ErrBadDelivery)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return fmt.Errorf("%w: JWT signature does not match the app's secret", ErrBadDelivery)
	}
	rawClaims, err := enc.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("%w: bad JWT claims encoding", ErrBadDelivery)
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
		Iat *json.Number `json:"iat"`
		Nbf *json.Number `json:"nbf"`
	}
	if json.Unmarshal(rawClaims, &claims) != nil {
		return fmt.Errorf("%w: bad JWT claims", ErrBadDelivery)
	}
	unix := func(n *json.Number) (time.Time, bool) {
		f, err := n.Float64()
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(int64(f), 0), true
	}
	if claims.Exp == nil {
		return fmt.Errorf("%w: JWT has no exp", ErrBadDelivery)
	}
	exp, valid := unix(claims.Exp)
	if !valid || !now.Before(exp.Add(deliveryLeeway)) {
		return fmt.Errorf("%w: JWT expired", ErrBadDelivery)
	}
	for _, n := range []*json.Number{claims.Iat, claims.Nbf} {
		if n == nil {
			continue
		}
		t, valid := unix(n)
		if !valid || t.After(now.Add(deliveryLeeway)) {
			return fmt.Errorf("%w: JWT not valid yet", ErrBadDelivery)
		}
	}
	return nil
}

// VerifyHubSignature checks a Data Center admin webhook's
// "X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>" in constant time.
func VerifyHubSignature(secret string, body []byte, header string) error {
	if secret == "" {
		return fmt.Errorf("%w: no webhook secret", ErrBadDelivery)
	}
	hexSig, found := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !found {
		return fmt.Errorf("%w: no sha256 X-Hub-Signature", ErrBadDelivery)
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("%w: X-Hub-Signature is not hex", ErrBadDelivery)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return fmt.Errorf("%w: X-Hub-Signature does not match", ErrBadDelivery)
	}
	return nil
}

// DeliveryIssue reads the issue a (verified) delivery names: its key, or its
// id. Nothing else in the payload is used.
func DeliveryIssue(body []byte) (string, bool) {
	var p struct {
		Issue struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		} `json:"issue"`
	}
	if json.Unmarshal(body, &p) != nil {
		return "", false
	}
	if p.Issue.Key != "" {
		return p.Issue.Key, true
	}
	return p.Issue.ID, p.Issue.ID != ""
}

package jira

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors at the package boundary; check them with errors.Is.
var (
	// ErrForbiddenAddress: the outbound guard refused to connect to an address
	// (loopback, link-local/cloud metadata, multicast, reserved ...).
	ErrForbiddenAddress = errors.New("this address is not allowed for connections to Jira")
	// ErrUnauthorized: Jira still answered 401 after a token refresh.
	ErrUnauthorized = errors.New("Jira refused the stored credentials (HTTP 401): reconnect the integration on the Integrations page")
	// ErrNotFound: Jira answered 404. Jira uses it for "missing" and "not visible to
	// the connected user" alike, so never recreate things blindly on it.
	ErrNotFound = errors.New("not found in Jira, or not visible to the connected Jira user")
	// ErrReconnectRequired: the grant is gone (invalid_grant, no refresh token);
	// an admin must connect the integration again.
	ErrReconnectRequired = errors.New("the Jira connection must be re-authorized by an admin")
	// ErrMissingWriteScope: the consent did not grant write access.
	ErrMissingWriteScope = errors.New("the Jira authorization does not include write access")
	// ErrNotJira: the address answered, but not like a Jira server.
	ErrNotJira = errors.New("the server does not look like Jira")
	// ErrNoTransition: the workflow offers no way to reach the wanted status.
	ErrNoTransition = errors.New("the Jira workflow offers no transition to the wanted status")
)

// APIError is a 4xx answer from Jira (other than 401/404/429), carrying Jira's
// own ErrorCollection messages so an admin can act on them.
type APIError struct {
	Status   int
	Messages []string          // errorMessages
	Fields   map[string]string // errors: field id -> message
}

func (e *APIError) Error() string {
	details := e.details()
	if details == "" {
		return fmt.Sprintf("Jira rejected the request (HTTP %d %s)", e.Status, http.StatusText(e.Status))
	}
	return "Jira rejected the request: " + details
}

func (e *APIError) details() string {
	parts := make([]string, 0, len(e.Messages)+len(e.Fields))
	for _, m := range e.Messages {
		if m = strings.TrimSpace(m); m != "" {
			parts = append(parts, m)
		}
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return strings.Join(parts, "; ")
}

// RateLimitError is a 429 (or 503) answer. RetryAfter is zero when Jira gave no hint.
type RateLimitError struct {
	Status     int
	RetryAfter time.Duration
	Reason     string // RateLimit-Reason header, e.g. jira-burst-based

	ambiguous bool // a 503 to a non-idempotent request may have been applied
}

func (e *RateLimitError) Error() string {
	var b strings.Builder
	if e.Status == http.StatusServiceUnavailable {
		b.WriteString("Jira is temporarily unavailable (HTTP 503)")
	} else {
		b.WriteString("Jira is rate limiting requests (HTTP 429)")
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, ", reason %s", e.Reason)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	return b.String()
}

// ServerError is a 5xx answer (other than 503).
type ServerError struct {
	Status   int
	Messages []string

	ambiguous bool // set for non-idempotent requests: Jira may have applied them
}

func (e *ServerError) Error() string {
	msg := fmt.Sprintf("Jira had a server error (HTTP %d %s)", e.Status, http.StatusText(e.Status))
	if len(e.Messages) > 0 {
		msg += ": " + strings.Join(e.Messages, "; ")
	}
	return msg
}

// TransportError is a network failure talking to Jira (no HTTP answer).
type TransportError struct {
	Op  string
	Err error

	sent       bool // request bytes reached the wire before the failure
	idempotent bool
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("could not reach Jira (%s): %v", e.Op, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// NoTransitionError explains why an issue cannot be moved to a status.
type NoTransitionError struct {
	Issue   string
	Target  string   // wanted status name; "" means any done status
	Current string   // status the issue is in
	Offered []string // transition names Jira offered from Current
	// Path is set when the console gave up after its step limit: the
	// statuses the issue went through, from where it started to Current.
	Path []string
}

func (e *NoTransitionError) Error() string {
	target := fmt.Sprintf("status %q", e.Target)
	if e.Target == "" {
		target = "a done status"
	}
	if len(e.Path) > 1 {
		return fmt.Sprintf("gave up moving %s to %s after %d transitions (%s): the workflow needs a longer path than the console walks; "+
			"map the outcome to a status closer to %q in the project link, or add a transition to %s in the Jira workflow",
			e.Issue, target, len(e.Path)-1, quoteJoin(e.Path, " → "), e.Current, target)
	}
	msg := fmt.Sprintf("the Jira workflow offers no way to move %s from %q to %s", e.Issue, e.Current, target)
	if len(e.Offered) > 0 {
		msg += " (transitions offered: " + strings.Join(e.Offered, ", ") + ")"
	} else {
		msg += " (no transitions offered; does the connected user have the Transition Issues permission?)"
	}
	return msg
}

func quoteJoin(names []string, sep string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, sep)
}

// Is makes errors.Is(err, ErrNoTransition) true.
func (e *NoTransitionError) Is(target error) bool { return target == ErrNoTransition }

// IsAmbiguous reports whether a failed request may nevertheless have been
// applied by Jira: a non-idempotent request (POST) that timed out or lost its
// connection after being sent, or that got a 5xx. The caller must check (for
// example search the correlation label) before repeating it.
func IsAmbiguous(err error) bool {
	var te *TransportError
	if errors.As(err, &te) {
		return te.sent && !te.idempotent
	}
	var se *ServerError
	if errors.As(err, &se) {
		return se.ambiguous
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return rl.ambiguous
	}
	return false
}

// IsRetryable reports whether repeating the call later may succeed without
// anyone changing anything: rate limits, 5xx, network failures and 409
// conflicts. Ambiguous errors are retryable too, but only after deduplication.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var (
		rl *RateLimitError
		se *ServerError
		te *TransportError
		ae *APIError
	)
	switch {
	case errors.Is(err, ErrForbiddenAddress), errors.Is(err, ErrReconnectRequired):
		return false
	case errors.As(err, &rl), errors.As(err, &se), errors.As(err, &te):
		return true
	case errors.As(err, &ae):
		return ae.Status == http.StatusConflict
	}
	return false
}

// RetryAfter returns the wait Jira asked for, if err carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var rl *RateLimitError
	if errors.As(err, &rl) && rl.RetryAfter > 0 {
		return rl.RetryAfter, true
	}
	return 0, false
}

package jirasim

import (
	"encoding/json"
	"net/http"
)

// reply is a computed response, written after s.mu is released.
type reply struct {
	status int
	body   any // nil writes no body
}

// errorCollection is Jira's error body.
type errorCollection struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

// gatewayError is the Atlassian gateway's own error body (not an ErrorCollection).
type gatewayError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func ok(body any) reply { return reply{status: http.StatusOK, body: body} }

// errorReply is an ErrorCollection with error messages only.
func errorReply(status int, msgs ...string) reply {
	if msgs == nil {
		msgs = []string{}
	}
	return reply{status: status, body: errorCollection{ErrorMessages: msgs, Errors: map[string]string{}}}
}

// fieldErrors is an ErrorCollection with per-field errors.
func fieldErrors(status int, errs map[string]string) reply {
	return reply{status: status, body: errorCollection{ErrorMessages: []string{}, Errors: errs}}
}

func writeReply(w http.ResponseWriter, rep reply) {
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	writeJSON(w, rep.status, rep.body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// obj is shorthand for a JSON object.
type obj = map[string]any

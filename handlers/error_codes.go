package handlers

import "net/http"

// errorCode is the machine-readable code of an error answer (JSON's
// error.code; openapi.json lists every one).
type errorCode string

// Every error code the handlers answer with. Each has one row in
// errorCodes; TestErrorCodesInOnePlace keeps codes out of other files.
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
	codeSelfApproval     errorCode = "self_approval"
	codeAlreadyDecided   errorCode = "already_decided"
	codeJiraFailed       errorCode = "jira_failed"
)

// codeSpec is what an error code answers with unless a problem says more.
type codeSpec struct {
	Status  int
	Message string // the default; a problem may carry a more precise one
}

// errorCodes is the table of every error code: its HTTP status and
// default message.
func errorCodes() map[errorCode]codeSpec {
	return map[errorCode]codeSpec{
		codeBadRequest:       {http.StatusBadRequest, "The request could not be understood."},
		codeUnauthorized:     {http.StatusUnauthorized, "Authentication is required."},
		codeForbidden:        {http.StatusForbidden, "You are not allowed to do this."},
		codeNotFound:         {http.StatusNotFound, "This page or item does not exist."},
		codeMethodNotAllowed: {http.StatusMethodNotAllowed, "This method is not allowed here."},
		codeConflict:         {http.StatusConflict, "This was changed or is still in use; reload and try again."},
		codeTooLarge:         {http.StatusRequestEntityTooLarge, "The request body is too large."},
		codeValidation:       {http.StatusUnprocessableEntity, "Some fields are not valid."},
		codeUnsupportedMedia: {http.StatusUnsupportedMediaType, "Send the body as application/json."},
		codeRateLimited:      {http.StatusTooManyRequests, "Too many requests; wait a moment and try again."},
		codeSetupRequired:    {http.StatusServiceUnavailable, "Setup required: create the first admin at /setup."},
		codeUnavailable:      {http.StatusServiceUnavailable, "The service is not available right now; try again later."},
		codeInternal:         {http.StatusInternalServerError, "Something went wrong on our side."},
		codeSelfApproval: {http.StatusForbidden,
			"You cannot approve or deny your own request: someone else must decide it (separation of duties)."},
		codeAlreadyDecided: {http.StatusConflict, "This request is no longer pending; reload it to see what happened."},
		codeJiraFailed:     {http.StatusBadGateway, "Jira could not be reached or had an error; try again later."},
	}
}

// spec is the code's row of the table; a code missing from it (a
// programming error TestErrorCodeTable catches) answers as internal.
func (c errorCode) spec() codeSpec {
	table := errorCodes()
	if s, ok := table[c]; ok {
		return s
	}
	return table[codeInternal]
}

package models

import "errors"

// Sentinel errors returned by the Store; callers never see gorm errors.
var (
	ErrNotFound         = errors.New("not found")
	ErrDuplicate        = errors.New("already exists")
	ErrInvalidLogin     = errors.New("invalid email or password")
	ErrConflict         = errors.New("changed by someone else")
	ErrSetupDone        = errors.New("setup has already been completed")
	ErrInvalidToken     = errors.New("invalid or revoked API token")
	ErrDecryptionFailed = errors.New("stored secret cannot be decrypted with the configured keys")
	// ErrNestedWrite is a write started from inside a write transaction's
	// callback, which would wait for itself (see Store.tx).
	ErrNestedWrite = errors.New("write started inside a write transaction: use the transaction's tx")
)

// ValidationError carries field errors for a form or API body.
type ValidationError struct {
	Fields map[string]string
}

func (e *ValidationError) Error() string {
	if len(e.Fields) == 1 {
		for f, m := range e.Fields {
			return "invalid " + f + ": " + m
		}
	}
	return "invalid input"
}

// FieldErrors collects field errors while validating.
type FieldErrors map[string]string

// Add records msg for field unless the field already has an error.
func (f FieldErrors) Add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

// Err returns a *ValidationError when any field failed, else nil.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &ValidationError{Fields: f}
}

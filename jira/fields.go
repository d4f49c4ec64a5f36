package jira

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"privilege/models"
)

// Required fields (design.md §10): the create metadata says which fields an
// issue type requires, their type (schema) and allowed values; the project
// link gives each one Privilege cannot fill a value, sent on create.

// FieldSchema is a createmeta field's schema.
type FieldSchema struct {
	Type   string `json:"type"`   // string, number, date, option, array, user, priority, …
	Items  string `json:"items"`  // for arrays: option, component, version, string…
	Custom string `json:"custom"` // custom field type key, e.g. …:select
	System string `json:"system"` // system field id, e.g. components
}

// FieldOption is an allowed value of a field.
type FieldOption struct {
	ID   string
	Name string // "value" for custom options, "name" for components, priorities, versions
}

// FieldInput is the kind of input the Manage page offers for a field.
type FieldInput string

const (
	InputNone        FieldInput = ""            // Privilege cannot offer a value
	InputSelect      FieldInput = "select"      // one of the allowed values: {"id"}
	InputMultiSelect FieldInput = "multiselect" // some allowed values: [{"id"}…]
	InputText        FieldInput = "text"        // a string
	InputNumber      FieldInput = "number"      // a JSON number
	InputDate        FieldInput = "date"        // YYYY-MM-DD
	InputUser        FieldInput = "user"        // a user linked on the integration
)

// Input is the input fitting the field's schema.
func (f Field) Input() FieldInput {
	s := f.Schema
	switch {
	case s.Type == "option" || s.Type == "priority" || s.Type == "version" || s.Type == "component":
		return InputSelect
	case s.Type == "array" && slices.Contains([]string{"option", "component", "version"}, s.Items):
		return InputMultiSelect
	case s.Type == "string" && (s.Custom == "" || strings.HasSuffix(s.Custom, ":textfield")):
		return InputText
	case s.Type == "number":
		return InputNumber
	case s.Type == "date":
		return InputDate
	case s.Type == "user":
		return InputUser
	}
	return InputNone
}

// ErrFieldValue: the value chosen for a field is not one Jira would take.
var ErrFieldValue = errors.New("invalid field value")

// FieldValue turns what the admin chose (option ids, text, a number, a
// date, or for a user field the linked person) into the value sent on
// create. Options must be among the field's allowed values.
func (c *Client) FieldValue(f Field, choice []string, user *Person) (models.FieldValue, error) {
	fv := models.FieldValue{Name: f.Name, Choice: choice}
	first := ""
	if len(choice) > 0 {
		first = strings.TrimSpace(choice[0])
	}
	option := func(id string) (FieldOption, error) {
		i := slices.IndexFunc(f.AllowedValues, func(o FieldOption) bool { return o.ID == id })
		if i < 0 {
			return FieldOption{}, fmt.Errorf("%w: choose one of the values Jira allows", ErrFieldValue)
		}
		return f.AllowedValues[i], nil
	}
	var v any
	switch f.Input() {
	case InputSelect:
		o, err := option(first)
		if err != nil {
			return fv, err
		}
		v, fv.Label = map[string]string{"id": o.ID}, o.Name
	case InputMultiSelect:
		var refs []map[string]string
		var names []string
		for _, id := range choice {
			o, err := option(id)
			if err != nil {
				return fv, err
			}
			refs, names = append(refs, map[string]string{"id": o.ID}), append(names, o.Name)
		}
		if len(refs) == 0 {
			return fv, fmt.Errorf("%w: choose at least one value", ErrFieldValue)
		}
		v, fv.Label = refs, strings.Join(names, ", ")
	case InputText:
		if first == "" || len(first) > 255 {
			return fv, fmt.Errorf("%w: enter 1 to 255 characters", ErrFieldValue)
		}
		v, fv.Label = first, first
	case InputNumber:
		n, err := strconv.ParseFloat(first, 64)
		if err != nil {
			return fv, fmt.Errorf("%w: enter a number", ErrFieldValue)
		}
		v, fv.Label = n, strconv.FormatFloat(n, 'f', -1, 64)
	case InputDate:
		if _, err := time.Parse(time.DateOnly, first); err != nil {
			return fv, fmt.Errorf("%w: enter a date (YYYY-MM-DD)", ErrFieldValue)
		}
		v, fv.Label = first, first
	case InputUser:
		if user == nil {
			return fv, fmt.Errorf("%w: choose a user who linked their Jira account", ErrFieldValue)
		}
		v, fv.Label = c.ref(user), user.DisplayName
	default:
		return fv, fmt.Errorf("%w: Privilege cannot fill a field of type %q", ErrFieldValue, f.Schema.Type)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fv, fmt.Errorf("encode the value of %s: %w", f.Name, err)
	}
	fv.Value = raw
	return fv, nil
}

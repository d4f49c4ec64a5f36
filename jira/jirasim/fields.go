package jirasim

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Create-screen fields beyond the system ones (design.md §10): custom selects,
// components, priority, versions, text, number, date and user fields, with
// their allowed values in createmeta and Jira's errors for a missing or
// invalid value on create.

// FieldKind is the type of a create-screen field.
type FieldKind int

const (
	FieldText        FieldKind = iota // custom single-line text: a string
	FieldSelect                       // custom single select: {"id"} or {"value"}
	FieldMultiSelect                  // custom multi select: [{"id"}…]
	FieldNumber                       // custom number: a JSON number
	FieldDate                         // custom date: "YYYY-MM-DD"
	FieldUser                         // custom user picker: {"accountId"} (Cloud) / {"name"} (DC)
	FieldComponents                   // system components: [{"id"}…]
	FieldPriority                     // system priority: {"id"}
	FieldVersions                     // system fix versions: [{"id"}…]
	FieldCascading                    // custom cascading select: Privilege offers no input for it
)

// CreateField is a field on an issue type's create screen.
type CreateField struct {
	ID       string // customfield_NNNNN, or components / priority / fixVersions
	Name     string
	Kind     FieldKind
	Required bool
	Options  []string // allowed values (select kinds, components, priority, versions)
	// Default is the allowed value Jira sets when create sends none (as
	// Jira's default priority does); createmeta says hasDefaultValue.
	Default string
}

type fieldOption struct {
	id, name string
	removed  bool
}

// requiredField is a create-screen field of a project (the name is kept for
// RequireField's text fields).
type requiredField struct {
	id, name string
	kind     FieldKind
	required bool
	options  []fieldOption
	def      string // the default option's name ("" = none)
}

// AddCreateField puts a field on the create screen of issueType ("" = every
// type). Option ids are assigned from 10100 in order.
func (p *Project) AddCreateField(issueType string, f CreateField) {
	p.inst.sim.mu.Lock()
	defer p.inst.sim.mu.Unlock()
	rf := requiredField{id: f.ID, name: f.Name, kind: f.Kind, required: f.Required, def: f.Default}
	for _, o := range f.Options {
		rf.options = append(rf.options, fieldOption{id: strconv.Itoa(10100 + p.inst.nextOptionID), name: o})
		p.inst.nextOptionID++
	}
	p.required[issueType] = append(p.required[issueType], rf)
}

// OptionID is the id Jira gave an allowed value of a field ("" = none).
func (p *Project) OptionID(fieldID, name string) string {
	p.inst.sim.mu.Lock()
	defer p.inst.sim.mu.Unlock()
	for _, fs := range p.required {
		for _, f := range fs {
			for _, o := range f.options {
				if f.id == fieldID && o.name == name {
					return o.id
				}
			}
		}
	}
	return ""
}

// RemoveOption takes an allowed value off a field (an admin deleted or
// disabled the option): createmeta stops offering it and create refuses it.
func (p *Project) RemoveOption(fieldID, name string) {
	p.inst.sim.mu.Lock()
	defer p.inst.sim.mu.Unlock()
	for _, fs := range p.required {
		for i := range fs {
			for j := range fs[i].options {
				if fs[i].id == fieldID && fs[i].options[j].name == name {
					fs[i].options[j].removed = true
				}
			}
		}
	}
}

func (f requiredField) customID() int {
	n, err := strconv.Atoi(strings.TrimPrefix(f.id, "customfield_"))
	if err != nil {
		return 10050
	}
	return n
}

// meta is the field's createmeta entry.
func (in *instance) fieldMetaOf(f requiredField) obj {
	custom := func(typ, plugin string, items string) obj {
		s := obj{"type": typ, "custom": "com.atlassian.jira.plugin.system.customfieldtypes:" + plugin, "customId": f.customID()}
		if items != "" {
			s["items"] = items
		}
		return s
	}
	var schema obj
	var allowed []obj
	live := func(key string) []obj {
		out := []obj{}
		for _, o := range f.options {
			if !o.removed {
				out = append(out, in.allowedValue(f.kind, o, key))
			}
		}
		return out
	}
	switch f.kind {
	case FieldText:
		schema = custom("string", "textfield", "")
	case FieldSelect:
		schema, allowed = custom("option", "select", ""), live("value")
	case FieldMultiSelect:
		schema, allowed = custom("array", "multiselect", "option"), live("value")
	case FieldNumber:
		schema = custom("number", "float", "")
	case FieldDate:
		schema = custom("date", "datepicker", "")
		if f.id == "duedate" {
			schema = obj{"type": "date", "system": "duedate"}
		}
	case FieldUser:
		schema = custom("user", "userpicker", "")
	case FieldComponents:
		schema, allowed = obj{"type": "array", "items": "component", "system": "components"}, live("name")
	case FieldPriority:
		schema, allowed = obj{"type": "priority", "system": "priority"}, live("name")
	case FieldVersions:
		schema, allowed = obj{"type": "array", "items": "version", "system": "fixVersions"}, live("name")
	case FieldCascading:
		schema, allowed = custom("option-with-child", "cascadingselect", ""), live("value")
	}
	ops := []string{"set"}
	if f.multi() {
		ops = []string{"add", "set", "remove"}
	}
	def, hasDefault := f.defaultOption()
	meta := fieldMeta(f.id, f.name, f.required, hasDefault, schema, ops, allowed)
	switch {
	case hasDefault && f.multi():
		meta["defaultValue"] = []obj{in.allowedValue(f.kind, def, "value")}
	case hasDefault:
		meta["defaultValue"] = in.allowedValue(f.kind, def, "value")
	}
	return meta
}

// allowedValue is an option as createmeta lists it: custom options carry
// "value" (key), priorities an icon, versions their state, each a self link
// to its own resource.
func (in *instance) allowedValue(kind FieldKind, o fieldOption, key string) obj {
	switch kind {
	case FieldPriority:
		return obj{"self": in.restBase() + "/priority/" + o.id, "iconUrl": in.selfBase + "/images/icons/priorities/" + strings.ToLower(o.name) + ".svg",
			"name": o.name, "id": o.id}
	case FieldComponents:
		return obj{"self": in.restBase() + "/component/" + o.id, "id": o.id, "name": o.name}
	case FieldVersions:
		return obj{"self": in.restBase() + "/version/" + o.id, "id": o.id, "name": o.name, "archived": false, "released": false}
	}
	return obj{"self": in.restBase() + "/customFieldOption/" + o.id, "id": o.id, key: o.name}
}

// multi reports whether the field takes a list of options.
func (f requiredField) multi() bool {
	return f.kind == FieldMultiSelect || f.kind == FieldComponents || f.kind == FieldVersions
}

// defaultOption is the live option Jira sets when create sends none.
func (f requiredField) defaultOption() (fieldOption, bool) {
	for _, o := range f.options {
		if f.def != "" && o.name == f.def && !o.removed {
			return o, true
		}
	}
	return fieldOption{}, false
}

var dateRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// check validates a value sent on create: the stored value, or Jira's error
// message for errors[f.id] ("" = fine).
func (in *instance) checkField(f requiredField, v any, present bool) (any, string) {
	if !present || v == nil {
		def, hasDefault := f.defaultOption()
		switch {
		case hasDefault && !present && f.multi():
			return []string{def.name}, ""
		case hasDefault && !present:
			return def.name, ""
		case f.required:
			return nil, f.name + " is required."
		}
		return nil, ""
	}
	option := func(ref any) (fieldOption, string) {
		m, isObj := ref.(map[string]any)
		if !isObj {
			return fieldOption{}, "Specify a valid 'id' or 'name' for " + f.name
		}
		id, _ := m["id"].(string)
		name, _ := m["value"].(string)
		if name == "" {
			name, _ = m["name"].(string)
		}
		for _, o := range f.options {
			if !o.removed && ((id != "" && o.id == id) || (id == "" && name != "" && o.name == name)) {
				return o, ""
			}
		}
		switch f.kind {
		case FieldComponents:
			return fieldOption{}, fmt.Sprintf("Component with id '%s' does not exist.", firstNonEmpty(id, name))
		case FieldVersions:
			return fieldOption{}, fmt.Sprintf("Version id '%s' is not valid", firstNonEmpty(id, name))
		case FieldPriority:
			return fieldOption{}, "Specify a valid 'id' or 'name' for Priority"
		}
		if id != "" {
			return fieldOption{}, fmt.Sprintf("Option id '%s' is not valid", id)
		}
		return fieldOption{}, fmt.Sprintf("Option value '%s' is not valid", name)
	}
	switch f.kind {
	case FieldText:
		s, isString := v.(string)
		if !isString {
			return nil, "Operation value must be a string"
		}
		if f.required && strings.TrimSpace(s) == "" {
			return nil, f.name + " is required."
		}
		return s, ""
	case FieldSelect, FieldPriority, FieldCascading:
		o, msg := option(v)
		if msg != "" {
			return nil, msg
		}
		return o.name, ""
	case FieldMultiSelect, FieldComponents, FieldVersions:
		list, isList := v.([]any)
		if !isList {
			return nil, "data was not an array"
		}
		if f.required && len(list) == 0 {
			return nil, f.name + " is required."
		}
		var names []string
		for _, e := range list {
			o, msg := option(e)
			if msg != "" {
				return nil, msg
			}
			names = append(names, o.name)
		}
		return names, ""
	case FieldNumber:
		n, isNum := v.(float64)
		if !isNum || math.IsNaN(n) {
			return nil, "Operation value must be a number"
		}
		return n, ""
	case FieldDate:
		s, _ := v.(string)
		if _, err := time.Parse(time.DateOnly, s); !dateRe.MatchString(s) || err != nil {
			return nil, "Date value is invalid. Expected format: yyyy-MM-dd"
		}
		return s, ""
	case FieldUser:
		u, ref := in.userRef(v)
		if u == nil || u.inactive {
			return nil, fmt.Sprintf("Specify a valid value for %s (%q is not a user)", f.name, ref)
		}
		return u.ID(), ""
	}
	return v, ""
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

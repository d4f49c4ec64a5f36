package jirasim

import (
	"bytes"
	_ "embed" // for the ADF schema
	"fmt"
	"reflect"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// adfSchema is @atlaskit/adf-schema 57.7.22 dist/json-schema/v1/full.json
// (JSON Schema draft-04), byte-identical to the project's shared specs/adf-schema-v1-full.json
// (TestEmbeddedADFSchemaMatchesSpec checks when that copy is at hand).
//
//go:embed adf-schema-v1-full.json
var adfSchema []byte

// adfValidator validates Atlassian Document Format documents.
type adfValidator struct {
	schema *jsonschema.Schema
}

func newADFValidator() *adfValidator {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(adfSchema))
	if err != nil {
		panic(fmt.Sprintf("jirasim: parse embedded ADF schema: %v", err))
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	const id = "https://privilege.invalid/adf-schema-v1-full.json"
	if err := c.AddResource(id, doc); err != nil {
		panic(fmt.Sprintf("jirasim: add ADF schema: %v", err))
	}
	sch, err := c.Compile(id)
	if err != nil {
		panic(fmt.Sprintf("jirasim: compile ADF schema: %v", err))
	}
	return &adfValidator{schema: sch}
}

// validate reports why v (decoded JSON) is not a valid ADF document.
func (a *adfValidator) validate(v any) error {
	if _, isObject := v.(map[string]any); !isObject {
		return fmt.Errorf("not an ADF document: got %T", v)
	}
	return a.schema.Validate(v)
}

// adfChecks are the results of checking the ADF documents of a decoded body,
// by the identity of each document's object.
type adfChecks map[uintptr]error

// checkAll checks every object of v whose type is "doc" (descriptions,
// comment bodies, comments in a transition's update).
func (a *adfValidator) checkAll(v any) adfChecks {
	checks := adfChecks{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "doc" {
				checks[docID(x)] = a.validate(x)
				return
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return checks
}

// result is the check of v done before sim.mu was taken, if any.
func (c adfChecks) result(v any) (checked bool, err error) {
	m, isObject := v.(map[string]any)
	if !isObject || c == nil {
		return false, nil
	}
	err, checked = c[docID(m)]
	return checked, err
}

func docID(m map[string]any) uintptr { return reflect.ValueOf(m).Pointer() }

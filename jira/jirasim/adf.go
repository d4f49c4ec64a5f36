package jirasim

import (
	"bytes"
	_ "embed" // for the ADF schema
	"fmt"

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

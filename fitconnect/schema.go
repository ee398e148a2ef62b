// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"bytes"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"rathaus"
)

// CompileJSONSchema compiles a JSON Schema document (draft 2020-12 or the
// draft its $schema names) under the given URI, with format assertions on.
// Use it for the data schemas a subscriber accepts and, optionally, for the
// FITKO metadata schema.
func CompileJSONSchema(uri string, doc []byte) (*jsonschema.Schema, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "schema %s: not JSON: %v", uri, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(uri, v); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "schema %s: %v", uri, err)
	}
	s, err := c.Compile(uri)
	if err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "schema %s: %v", uri, err)
	}
	return s, nil
}

// ValidateJSON validates the JSON document doc against s.
func ValidateJSON(s *jsonschema.Schema, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "not valid JSON: %v", err)
	}
	if err := s.Validate(v); err != nil {
		return rathaus.Errorf(rathaus.EINVALID, "schema violation: %s", oneLine(err.Error()))
	}
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

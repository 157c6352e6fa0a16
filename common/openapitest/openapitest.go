// Package openapitest checks HTTP answers against an OpenAPI (Swagger 2.0)
// document, for tests that hold a server to what its document says.
//
// It knows the parts of Swagger 2.0 that gpumon's generated document uses:
// $ref to #/definitions, allOf, object properties and additionalProperties,
// required, arrays, enum, the JSON types with integer formats and
// date-time strings, and x-nullable. It is stricter than the specification
// in two ways that make a document tell the truth: a property the schema
// does not name is an error (unless additionalProperties allows it), and an
// answer's status must be listed by its operation (default only counts for
// errors).
package openapitest

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gpumon/gpumon/common/jsontest"
)

// Schema is a Swagger 2.0 schema object.
type Schema struct {
	Ref                  string             `json:"$ref"`
	Type                 string             `json:"type"`
	Format               string             `json:"format"`
	Enum                 []any              `json:"enum"`
	Properties           map[string]*Schema `json:"properties"`
	AdditionalProperties *Schema            `json:"additionalProperties"`
	Items                *Schema            `json:"items"`
	AllOf                []*Schema          `json:"allOf"`
	Required             []string           `json:"required"`
	Nullable             bool               `json:"x-nullable"`
}

// Response is one documented answer of an operation.
type Response struct {
	Description string  `json:"description"`
	Schema      *Schema `json:"schema"`
}

// Operation is one method of one path.
type Operation struct {
	ID        string               `json:"operationId"`
	Responses map[string]*Response `json:"responses"`

	doc  *Document
	name string // "GET /api/v1/machines/{machine}"
}

// Document is a parsed Swagger 2.0 document.
type Document struct {
	Swagger     string                           `json:"swagger"`
	Paths       map[string]map[string]*Operation `json:"paths"`
	Definitions map[string]*Schema               `json:"definitions"`
}

// Parse reads a Swagger 2.0 document.
func Parse(data []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("parse the OpenAPI document: %w", err)
	}
	if d.Swagger != "2.0" {
		return nil, fmt.Errorf("the document says swagger %q, want 2.0", d.Swagger)
	}
	for path, ops := range d.Paths {
		for method, op := range ops {
			op.doc, op.name = &d, strings.ToUpper(method)+" "+path
		}
	}
	return &d, nil
}

// Operation finds the operation that serves method on a concrete URL path
// (without its query), matching {parameters} in documented paths.
func (d *Document) Operation(method, path string) (*Operation, error) {
	for tmpl, ops := range d.Paths {
		if op, ok := ops[strings.ToLower(method)]; ok && pathMatches(tmpl, path) {
			return op, nil
		}
	}
	return nil, fmt.Errorf("the document has no %s %s", method, path)
}

func pathMatches(tmpl, path string) bool {
	want, got := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		isParam := strings.HasPrefix(want[i], "{") && strings.HasSuffix(want[i], "}")
		if (isParam && got[i] == "") || (!isParam && want[i] != got[i]) {
			return false
		}
	}
	return true
}

// Check validates an answer of op: its status must be documented (an error
// status may fall to default) and its body must match that response's
// schema.
func (op *Operation) Check(status int, body []byte) error {
	resp, err := op.response(status)
	if err != nil {
		return err
	}
	v, err := jsontest.Parse(body)
	if err != nil {
		return fmt.Errorf("%s answered %d with a body that is not JSON: %w", op.name, status, err)
	}
	if err := op.doc.Validate(resp.Schema, v); err != nil {
		return fmt.Errorf("%s answered %d: %w", op.name, status, err)
	}
	return nil
}

// CheckStream validates a newline-delimited JSON answer line by line against
// the schema of the 200 response; a failed stream's last line may be the
// schema of the default (error) response.
func (op *Operation) CheckStream(lines [][]byte) error {
	ok, err := op.response(200)
	if err != nil {
		return err
	}
	for i, line := range lines {
		v, err := jsontest.Parse(line)
		if err != nil {
			return fmt.Errorf("%s line %d is not JSON: %w", op.name, i+1, err)
		}
		lineErr := op.doc.Validate(ok.Schema, v)
		if lineErr != nil && i == len(lines)-1 {
			if def := op.Responses["default"]; def != nil && op.doc.Validate(def.Schema, v) == nil {
				continue
			}
		}
		if lineErr != nil {
			return fmt.Errorf("%s line %d: %w", op.name, i+1, lineErr)
		}
	}
	return nil
}

func (op *Operation) response(status int) (*Response, error) {
	if r, ok := op.Responses[strconv.Itoa(status)]; ok {
		return r, nil
	}
	if r, ok := op.Responses["default"]; ok && status >= 400 {
		return r, nil
	}
	return nil, fmt.Errorf("%s answered %d, which the document does not list", op.name, status)
}

// Validate checks a decoded JSON value (numbers as json.Number) against s.
func (d *Document) Validate(s *Schema, v any) error {
	return d.validate(s, v, "$")
}

func (d *Document) validate(s *Schema, v any, at string) error {
	if s == nil {
		return nil // the document says nothing
	}
	if v == nil {
		if s.Nullable {
			return nil
		}
		return fmt.Errorf("%s is null, which the document does not allow (x-nullable)", at)
	}
	if s.Ref != "" {
		target, err := d.resolve(s.Ref)
		if err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		return d.validate(target, v, at)
	}
	for _, sub := range s.AllOf {
		if err := d.validate(sub, v, at); err != nil {
			return err
		}
	}
	if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		return fmt.Errorf("%s is %v, not one of %v", at, v, s.Enum)
	}
	typ := s.Type
	if typ == "" && (s.Properties != nil || s.AdditionalProperties != nil) {
		typ = "object"
	}
	switch typ {
	case "object":
		return d.validateObject(s, v, at)
	case "array":
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s is %s, want an array", at, kind(v))
		}
		for i, item := range list {
			if err := d.validate(s.Items, item, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		return nil
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s is %s, want a string", at, kind(v))
		}
		if s.Format == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				return fmt.Errorf("%s is %q, not an RFC 3339 date-time", at, str)
			}
		}
		return nil
	case "integer", "number":
		return validateNumber(s, v, at)
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s is %s, want a boolean", at, kind(v))
		}
		return nil
	case "":
		return nil
	}
	return fmt.Errorf("%s: the document uses type %q, which this checker does not know", at, typ)
}

func (d *Document) validateObject(s *Schema, v any, at string) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s is %s, want an object", at, kind(v))
	}
	for _, name := range s.Required {
		if _, ok := obj[name]; !ok {
			return fmt.Errorf("%s lacks the required property %q", at, name)
		}
	}
	for name, val := range obj {
		prop, ok := s.Properties[name]
		if !ok {
			prop = s.AdditionalProperties
		}
		if prop == nil {
			return fmt.Errorf("%s has the property %q, which the document does not name", at, name)
		}
		if err := d.validate(prop, val, at+"."+name); err != nil {
			return err
		}
	}
	return nil
}

// Integer formats and their ranges.
var integerRanges = map[string][2]float64{
	"int32":  {math.MinInt32, math.MaxInt32},
	"uint32": {0, math.MaxUint32},
	"int64":  {math.MinInt64, math.MaxInt64},
	"uint64": {0, math.MaxUint64},
}

func validateNumber(s *Schema, v any, at string) error {
	n, ok := v.(json.Number)
	if !ok {
		return fmt.Errorf("%s is %s, want a JSON number", at, kind(v))
	}
	f, err := n.Float64()
	if err != nil {
		return fmt.Errorf("%s: %w", at, err)
	}
	if s.Type != "integer" {
		return nil
	}
	if f != math.Trunc(f) || strings.ContainsAny(string(n), ".eE") {
		return fmt.Errorf("%s is %s, want an integer", at, n)
	}
	if r, ok := integerRanges[s.Format]; ok && (f < r[0] || f > r[1]) {
		return fmt.Errorf("%s is %s, out of the range of %s", at, n, s.Format)
	}
	return nil
}

func (d *Document) resolve(ref string) (*Schema, error) {
	name, ok := strings.CutPrefix(ref, "#/definitions/")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not a local definition", ref)
	}
	s, ok := d.Definitions[name]
	if !ok {
		return nil, fmt.Errorf("$ref %q names no definition", ref)
	}
	return s, nil
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

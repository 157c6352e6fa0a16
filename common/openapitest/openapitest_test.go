package openapitest

import (
	"strings"
	"testing"
)

const doc = `{
  "swagger": "2.0",
  "paths": {
    "/api/things/{name}": {"get": {"operationId": "Get", "responses": {
      "200": {"schema": {"$ref": "#/definitions/Thing"}},
      "404": {"schema": {"$ref": "#/definitions/Error"}},
      "default": {"schema": {"$ref": "#/definitions/Error"}}}}},
    "/api/watch": {"get": {"operationId": "Watch", "responses": {
      "200": {"schema": {"$ref": "#/definitions/Thing"}},
      "default": {"schema": {"$ref": "#/definitions/Error"}}}}},
    "/api/plain": {"get": {"operationId": "Plain", "responses": {
      "200": {"schema": {"type": "object", "properties": {}}}}}}
  },
  "definitions": {
    "Thing": {"type": "object", "properties": {
      "name": {"type": "string"},
      "count": {"type": "integer", "format": "int32"},
      "size": {"type": "integer", "format": "int64"},
      "ratio": {"type": "number", "format": "double"},
      "on": {"type": "boolean"},
      "kind": {"$ref": "#/definitions/Kind"},
      "temp": {"type": "integer", "format": "int64", "x-nullable": true},
      "at": {"type": "string", "format": "date-time"},
      "parent": {"$ref": "#/definitions/Thing", "x-nullable": true},
      "tags": {"type": "array", "items": {"type": "string"}},
      "labels": {"type": "object", "additionalProperties": {"type": "string"}}
    }},
    "Kind": {"type": "string", "enum": ["A", "B"]},
    "Error": {"type": "object", "required": ["status", "message"], "properties": {
      "status": {"type": "string", "enum": ["error"]}, "message": {"type": "string"}}}
  }
}`

func TestCheck(t *testing.T) {
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		status     int
		body, fail string // fail: part of the expected error; "" for valid
	}{
		{"full thing", "/api/things/x", 200, `{"name":"a","count":3,"size":5000000000,"ratio":0.5,"on":true,"kind":"A",
			"temp":null,"at":"2026-11-29T02:07:37.5Z","parent":{"name":"b","parent":null},"tags":["t"],"labels":{"k":"v"}}`, ""},
		{"empty object", "/api/things/x", 200, `{}`, ""},
		{"documented error", "/api/things/x", 404, `{"status":"error","message":"no thing"}`, ""},
		{"error through default", "/api/things/x", 503, `{"status":"error","message":"down"}`, ""},
		{"undocumented success status", "/api/things/x", 201, `{}`, "does not list"},
		{"no default for errors", "/api/plain", 500, `{"status":"error","message":"x"}`, "does not list"},
		{"null where not nullable", "/api/things/x", 200, `{"name":null}`, "$.name is null"},
		{"string for a number", "/api/things/x", 200, `{"size":"5000000000"}`, "want a JSON number"},
		{"float for an integer", "/api/things/x", 200, `{"count":1.5}`, "want an integer"},
		{"int32 out of range", "/api/things/x", 200, `{"count":3000000000}`, "out of the range of int32"},
		{"bad enum", "/api/things/x", 200, `{"kind":"C"}`, "not one of"},
		{"bad date", "/api/things/x", 200, `{"at":"yesterday"}`, "not an RFC 3339"},
		{"unknown property", "/api/things/x", 200, `{"secret":1}`, `property "secret"`},
		{"nested unknown property", "/api/things/x", 200, `{"parent":{"secret":1}}`, "$.parent"},
		{"array of wrong items", "/api/things/x", 200, `{"tags":[1]}`, "$.tags[0]"},
		{"map of wrong values", "/api/things/x", 200, `{"labels":{"k":1}}`, "$.labels.k"},
		{"missing required", "/api/things/x", 404, `{"status":"error"}`, `required property "message"`},
		{"wrong error status", "/api/things/x", 404, `{"status":"oops","message":"x"}`, "not one of"},
		{"not JSON", "/api/things/x", 200, `<html>`, "not JSON"},
		{"array for an object", "/api/things/x", 200, `[]`, "want an object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, err := d.Operation("GET", tc.path)
			if err != nil {
				t.Fatal(err)
			}
			err = op.Check(tc.status, []byte(tc.body))
			switch {
			case tc.fail == "" && err != nil:
				t.Errorf("valid answer refused: %v", err)
			case tc.fail != "" && err == nil:
				t.Errorf("invalid answer accepted, want an error with %q", tc.fail)
			case tc.fail != "" && !strings.Contains(err.Error(), tc.fail):
				t.Errorf("error %q lacks %q", err, tc.fail)
			}
		})
	}
}

func TestOperation(t *testing.T) {
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		want         string
	}{
		{"GET", "/api/things/x", "Get"},
		{"get", "/api/things/a%20b", "Get"},
		{"GET", "/api/things/", ""},
		{"GET", "/api/things/x/y", ""},
		{"POST", "/api/things/x", ""},
		{"GET", "/api/watch", "Watch"},
	} {
		op, err := d.Operation(tc.method, tc.path)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%s %s matched %s, want no operation", tc.method, tc.path, op.ID)
		case tc.want != "" && (err != nil || op.ID != tc.want):
			t.Errorf("%s %s: %v %v, want %s", tc.method, tc.path, op, err, tc.want)
		}
	}
}

func TestCheckStream(t *testing.T) {
	d, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	op, err := d.Operation("GET", "/api/watch")
	if err != nil {
		t.Fatal(err)
	}
	lines := func(s ...string) [][]byte {
		var out [][]byte
		for _, l := range s {
			out = append(out, []byte(l))
		}
		return out
	}
	if err := op.CheckStream(lines(`{"name":"a"}`, `{"parent":null}`)); err != nil {
		t.Errorf("valid stream refused: %v", err)
	}
	if err := op.CheckStream(lines(`{"name":"a"}`, `{"status":"error","message":"stream closed"}`)); err != nil {
		t.Errorf("a stream ending with an error line refused: %v", err)
	}
	if err := op.CheckStream(lines(`{"status":"error","message":"x"}`, `{"name":"a"}`)); err == nil {
		t.Error("an error line before the end was accepted")
	}
	if err := op.CheckStream(lines(`{"result":{"name":"a"}}`)); err == nil || !strings.Contains(err.Error(), `"result"`) {
		t.Errorf("a wrapped line was accepted or misreported: %v", err)
	}
}

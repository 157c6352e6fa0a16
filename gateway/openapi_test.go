package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/gpumon/gpumon/gen/gpumon/v1" // registers the descriptors read below
	"github.com/gpumon/gpumon/gen/openapi"
)

type swaggerDoc struct {
	Info        map[string]any                  `json:"info"`
	Paths       map[string]map[string]swaggerOp `json:"paths"`
	Definitions map[string]struct {
		Properties map[string]map[string]any `json:"properties"`
	} `json:"definitions"`
	SecurityDefinitions map[string]map[string]any `json:"securityDefinitions"`
}

type swaggerOp struct {
	OperationID string                    `json:"operationId"`
	Security    []map[string][]string     `json:"security"`
	Responses   map[string]map[string]any `json:"responses"`
}

func parseDoc(t *testing.T, data []byte) swaggerDoc {
	t.Helper()
	var d swaggerDoc
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("the OpenAPI document is not JSON: %v", err)
	}
	return d
}

// TestOpenAPIServedVersion: the served document carries the serving
// binary's version and is otherwise the generated one.
func TestOpenAPIServedVersion(t *testing.T) {
	for _, tc := range []struct{ version, want string }{{"1.4.2", "1.4.2"}, {"", "dev"}} {
		h, err := New(context.Background(), nil, Options{Version: tc.version})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("GET /api/v1/openapi.json: %d %s", rec.Code, rec.Header().Get("Content-Type"))
		}
		served, generated := parseDoc(t, rec.Body.Bytes()), parseDoc(t, openapi.JSON)
		if served.Info["version"] != tc.want || served.Info["title"] != "gpumon REST API" {
			t.Errorf("Version %q: info = %v, want version %q and title %q", tc.version, served.Info, tc.want, "gpumon REST API")
		}
		served.Info, generated.Info = nil, nil
		if !reflect.DeepEqual(served, generated) {
			t.Errorf("Version %q: the served document differs from the generated one beyond info", tc.version)
		}
	}
}

// TestOpenAPIDocument checks the rules of proto/gpumon/v1/fleet_openapi.yaml
// against the proto descriptors: a field is nullable exactly when it can be
// null on the wire (a message field, or a proto3 optional scalar), and every
// route documents its error body.
func TestOpenAPIDocument(t *testing.T) {
	d := parseDoc(t, openapi.JSON)
	if len(d.Definitions) == 0 || len(d.Paths) == 0 {
		t.Fatal("the document has no definitions or paths")
	}
	for name, def := range d.Definitions {
		full := protoreflect.FullName("gpumon.v1." + strings.TrimPrefix(name, "v1"))
		desc, err := protoregistry.GlobalFiles.FindDescriptorByName(full)
		if err != nil {
			t.Errorf("definition %s: no proto message %s", name, full)
			continue
		}
		md, ok := desc.(protoreflect.MessageDescriptor)
		if !ok {
			continue // an enum
		}
		for prop, schema := range def.Properties {
			fd := md.Fields().ByName(protoreflect.Name(prop))
			if fd == nil {
				t.Errorf("%s.%s: no such proto field", name, prop)
				continue
			}
			canBeNull := !fd.IsList() && !fd.IsMap() && (fd.Message() != nil || fd.HasOptionalKeyword())
			if got := schema["x-nullable"] == true; got != canBeNull {
				t.Errorf("%s.%s: x-nullable is %v, but the field can be null: %v (message fields need a line in proto/gpumon/v1/fleet_openapi.yaml)",
					name, prop, got, canBeNull)
			}
		}
	}
	for path, ops := range d.Paths {
		for method, op := range ops {
			if len(op.Security) == 0 {
				t.Errorf("%s %s: no security requirement", method, path)
			}
			for code, resp := range op.Responses {
				schema, _ := resp["schema"].(map[string]any)
				if code != "200" && schema["$ref"] != "#/definitions/v1ErrorResponse" {
					t.Errorf("%s %s: response %s does not have the error body", method, path, code)
				}
			}
			if _, ok := op.Responses["default"]; !ok {
				t.Errorf("%s %s: no default (error) response", method, path)
			}
		}
	}
	if _, ok := d.Definitions["v1ErrorResponse"]; !ok {
		t.Error("no v1ErrorResponse definition")
	}
}

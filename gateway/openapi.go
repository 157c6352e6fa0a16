package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gpumon/gpumon/gen/openapi"
)

// openAPIDocument is the generated OpenAPI document with info.version set to
// the serving binary's version (the committed document cannot know it).
func openAPIDocument(version string) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(openapi.JSON, &doc); err != nil {
		return nil, fmt.Errorf("read the OpenAPI document: %w", err)
	}
	var info map[string]any
	if err := json.Unmarshal(doc["info"], &info); err != nil {
		return nil, fmt.Errorf("read the OpenAPI document's info: %w", err)
	}
	if version != "" {
		info["version"] = version
	}
	var err error
	if doc["info"], err = json.Marshal(info); err != nil {
		return nil, fmt.Errorf("write the OpenAPI document's info: %w", err)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write the OpenAPI document: %w", err)
	}
	return append(out, '\n'), nil
}

func serveOpenAPI(doc []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(doc)
	}
}

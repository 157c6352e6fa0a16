package auth

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gpumon/gpumon/gen/openapi"
)

// TestOpenAPISecurity: for every route of the OpenAPI document, each token
// the document names is one the policy accepts, and each token it leaves
// out is one the policy refuses.
func TestOpenAPISecurity(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string                `json:"operationId"`
			Security    []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openapi.JSON, &doc); err != nil {
		t.Fatal(err)
	}
	p := &Policy{AgentToken: "ag", APIToken: "api", AdminToken: "adm"}
	tokens := map[string]string{"readToken": "api", "agentToken": "ag", "adminToken": "adm"}
	routes := 0
	for path, ops := range doc.Paths {
		for verb, op := range ops {
			service, rpc, ok := strings.Cut(op.OperationID, "_")
			if !ok {
				t.Errorf("%s %s: operationId %q is not Service_Method", verb, path, op.OperationID)
				continue
			}
			method := "/gpumon.v1." + service + "/" + rpc
			var documented []string
			for _, req := range op.Security {
				for scheme := range req {
					documented = append(documented, scheme)
				}
			}
			for scheme, tok := range tokens {
				err := p.Check(ctxWith(tok), method)
				if accepted, listed := err == nil, slices.Contains(documented, scheme); accepted != listed {
					t.Errorf("%s %s: the policy says %v (%s) for the %s, the document lists %v",
						verb, path, status.Code(err), err, scheme, documented)
				}
			}
			if status.Code(p.Check(ctxWith(""), method)) != codes.Unauthenticated {
				t.Errorf("%s %s: a hub with every token set lets a call without one through", verb, path)
			}
			routes++
		}
	}
	if routes < 10 {
		t.Errorf("checked %d routes; the document should have at least 10", routes)
	}
}

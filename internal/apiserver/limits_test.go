package apiserver

import (
	"net/http/httptest"
	"testing"

	"github.com/tugcluster/tug/internal/apiserver/filters"
)

// TestUnlimitedRequests checks which requests the in-flight limits skip:
// watches and streams, and system:masters (kube-apiserver's exempt
// priority level), not other users' short requests.
func TestUnlimitedRequests(t *testing.T) {
	admin := filters.User{Name: "system:admin", Groups: []string{filters.MastersGroup, filters.AuthenticatedGroup}}
	node := filters.User{Name: "system:node:n1", Groups: []string{"system:nodes", filters.AuthenticatedGroup}}
	tests := []struct {
		name, method, url string
		user              *filters.User
		want              bool
	}{
		{"a node's status patch", "PATCH", "/api/v1/namespaces/ns/pods/p/status", &node, false},
		{"an anonymous read", "GET", "/api/v1/pods", nil, false},
		{"a master's binding", "POST", "/api/v1/namespaces/ns/pods/p/binding", &admin, true},
		{"a master's read", "GET", "/api/v1/pods", &admin, true},
		{"a node's watch", "GET", "/api/v1/pods?watch=true", &node, true},
		{"a node's log stream", "GET", "/api/v1/namespaces/ns/pods/p/log?follow=true", &node, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.url, nil)
			if tt.user != nil {
				r = r.WithContext(filters.WithUser(r.Context(), *tt.user))
			}
			if got := isUnlimited(r); got != tt.want {
				t.Errorf("isUnlimited = %v, want %v", got, tt.want)
			}
		})
	}
}

package filters

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func TestAuthenticate(t *testing.T) {
	saUser := User{Name: "system:serviceaccount:ns:sa", UID: "u1", Groups: []string{"system:serviceaccounts"}, Extra: map[string][]string{"k": {"v"}}}
	tokens := Tokens(
		JoinToken("tug-join"),
		nil,
		func(_ context.Context, token string) (User, bool, error) {
			switch token {
			case "sa-token":
				return saUser, true, nil
			case "dead-sa-token":
				return User{}, false, errors.New("invalidated")
			}
			return User{}, false, nil
		},
	)
	cert := func(cn string, orgs ...string) *tls.ConnectionState {
		c := &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: orgs}, Raw: []byte(cn)}
		return &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{c}}}
	}
	tests := []struct {
		name     string
		path     string
		tls      *tls.ConnectionState
		bearer   string
		headers  map[string]string
		wantCode int
		wantUser *User
	}{
		{name: "admin certificate", tls: cert("system:admin", "system:masters"), wantCode: 200,
			wantUser: &User{Name: "system:admin", Groups: []string{"system:masters", "system:authenticated"}}},
		{name: "node certificate", tls: cert("system:node:n1", "system:nodes"), wantCode: 200,
			wantUser: &User{Name: "system:node:n1", Groups: []string{"system:nodes", "system:authenticated"}}},
		{name: "certificate without groups", tls: cert("alice"), wantCode: 200,
			wantUser: &User{Name: "alice", Groups: []string{"system:authenticated"}}},
		{name: "certificate wins over a bad token", tls: cert("alice"), bearer: "garbage", wantCode: 200,
			wantUser: &User{Name: "alice", Groups: []string{"system:authenticated"}}},
		{name: "certificate without CN falls to the token", tls: cert("", "system:masters"), bearer: "sa-token", wantCode: 200,
			wantUser: &User{Name: saUser.Name, UID: "u1", Groups: []string{"system:serviceaccounts", "system:authenticated"}, Extra: saUser.Extra}},
		{name: "certificate without CN alone", tls: cert("", "system:masters"), wantCode: 401},
		{name: "join token", bearer: "tug-join", wantCode: 200,
			wantUser: &User{Name: "system:node:tug-agent", Groups: []string{"system:nodes", "system:authenticated"}}},
		{name: "service-account token", bearer: "sa-token", wantCode: 200,
			wantUser: &User{Name: saUser.Name, UID: "u1", Groups: []string{"system:serviceaccounts", "system:authenticated"}, Extra: saUser.Extra}},
		{name: "invalidated token", bearer: "dead-sa-token", wantCode: 401},
		{name: "unknown token", bearer: "nobody", wantCode: 401},
		{name: "unknown token on a public path", path: "/healthz", bearer: "nobody", wantCode: 401},
		{name: "anonymous on a public path", path: "/healthz", wantCode: 200},
		{name: "anonymous", wantCode: 401},
		{name: "admin impersonates", tls: cert("system:admin", "system:masters"), headers: map[string]string{"Impersonate-User": "bob", "Impersonate-Group": "dev"},
			wantCode: 200, wantUser: &User{Name: "bob", Groups: []string{"dev", "system:authenticated"}}},
		{name: "node may not impersonate", tls: cert("system:node:n1", "system:nodes"), headers: map[string]string{"Impersonate-User": "system:admin"}, wantCode: 403},
		{name: "service account may not impersonate", bearer: "sa-token", headers: map[string]string{"Impersonate-User": "system:admin"}, wantCode: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *User
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if u, ok := UserFrom(r.Context()); ok {
					got = &u
				}
			})
			h := Authenticate(next, func(p string) bool { return p == "/healthz" }, tokens, func(w http.ResponseWriter, _ *http.Request, err error) {
				var status apierrors.APIStatus
				if errors.As(err, &status) {
					w.WriteHeader(int(status.Status().Code))
				}
			})
			path := tt.path
			if path == "" {
				path = "/api/v1/pods"
			}
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.TLS = tt.tls
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Fatalf("code %d, want %d", rec.Code, tt.wantCode)
			}
			// Certificate users carry the certificate's hash as their
			// credential ID; its value is the hash of a fake Raw here.
			if got != nil && tt.tls != nil && tt.tls.VerifiedChains[0][0].Subject.CommonName != "" && got.Name == tt.tls.VerifiedChains[0][0].Subject.CommonName {
				if len(got.Extra[extraCredentialID]) != 1 {
					t.Errorf("certificate user without a credential ID: %+v", got)
				}
				delete(got.Extra, extraCredentialID)
			}
			if diff := cmp.Diff(tt.wantUser, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("user (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUserInfo(t *testing.T) {
	u := User{Name: "n", UID: "u", Groups: []string{"g"}, Extra: map[string][]string{"k": {"v"}}}
	info := u.Info()
	if info.Username != "n" || info.UID != "u" || info.Groups[0] != "g" || info.Extra["k"][0] != "v" {
		t.Errorf("Info() = %+v", info)
	}
	if (User{Name: "n"}).Info().Extra != nil {
		t.Error("Info() of a user without extra has an empty map, want nil")
	}
}

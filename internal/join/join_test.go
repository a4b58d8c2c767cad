package join

import (
	"context"
	"encoding/pem"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFetchCAVerifiesTheSignature(t *testing.T) {
	srv := httptest.NewTLSServer(nil)
	defer srv.Close()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	srv.Config.Handler = Handler("tug-right", caPEM)

	got, err := FetchCA(context.Background(), srv.URL, "tug-right")
	if err != nil {
		t.Fatalf("FetchCA with the right token: %v", err)
	}
	if string(got) != string(caPEM) {
		t.Errorf("FetchCA returned another CA")
	}
	if _, err := FetchCA(context.Background(), srv.URL, "tug-wrong"); err == nil || !strings.Contains(err.Error(), "does not know this join token") {
		t.Errorf("FetchCA with a wrong token: err = %v, want a signature failure", err)
	}
	cfg, err := Config(context.Background(), srv.URL, "tug-right")
	if err != nil || cfg.BearerToken != "tug-right" || string(cfg.CAData) != string(caPEM) {
		t.Errorf("Config = %+v, %v", cfg, err)
	}
}

func TestHandlerRefusesBadNonces(t *testing.T) {
	h := Handler("t", []byte("ca"))
	for _, q := range []string{"", "nonce=zz", "nonce=00"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", CAPath+"?"+q, nil))
		if rec.Code != 400 {
			t.Errorf("%q: code %d, want 400", q, rec.Code)
		}
	}
}

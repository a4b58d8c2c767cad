package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/internal/join"
	"github.com/tugcluster/tug/internal/testutil"
)

// TestJoinToken checks that an agent knowing only the URL and the join
// token gets a verified CA and is authenticated, and that a wrong token
// gets neither.
func TestJoinToken(t *testing.T) {
	s := testutil.StartServer(t)
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join(s.DataDir, "server", "token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(data))
	cfg, err := join.Config(ctx, s.URL, token)
	if err != nil {
		t.Fatalf("join.Config: %v", err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	if _, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list nodes with the join token: %v", err)
	}
	if _, err := join.FetchCA(ctx, s.URL, token+"x"); err == nil {
		t.Error("FetchCA with a wrong token succeeded")
	}
	wrong := rest.CopyConfig(cfg)
	wrong.BearerToken = token + "x"
	_, err = kubernetes.NewForConfigOrDie(wrong).CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if !apierrors.IsUnauthorized(err) {
		t.Errorf("list with a wrong token: err = %v, want 401 Unauthorized", err)
	}
}

// Package kubeconfig builds, writes and reads the kubeconfig files through
// which kubectl and other clients reach a tug cluster.
package kubeconfig

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tugcluster/tug/internal/atomicfile"
)

// Name is the name of the cluster, user and context of the admin kubeconfig.
const Name = "tug"

// ServerURL is the API server URL for a kubeconfig on the server's own
// machine: https to bindAddress on port, or to 127.0.0.1 when the server
// listens on every address ("", 0.0.0.0 or ::).
func ServerURL(bindAddress string, port int) string {
	host := bindAddress
	if ip := net.ParseIP(bindAddress); bindAddress == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// Admin returns a kubeconfig that reaches server (an https URL, see
// ServerURL), trusting the CA in caPEM and presenting the client
// certificate and key in certPEM and keyPEM. Cluster, user and context are
// all named "tug", and the context is current. The slices are referenced,
// not copied.
func Admin(server string, caPEM, certPEM, keyPEM []byte) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[Name] = &clientcmdapi.Cluster{
		Server:                   server,
		CertificateAuthorityData: caPEM,
	}
	cfg.AuthInfos[Name] = &clientcmdapi.AuthInfo{
		ClientCertificateData: certPEM,
		ClientKeyData:         keyPEM,
	}
	cfg.Contexts[Name] = &clientcmdapi.Context{Cluster: Name, AuthInfo: Name}
	cfg.CurrentContext = Name
	return cfg
}

// Write writes cfg as YAML to path with mode 0600 (it holds a private
// key), atomically: a reader never sees half a file. The parent directory
// is created with mode 0700 if missing.
func Write(path string, cfg *clientcmdapi.Config) error {
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("encode kubeconfig %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// Load reads the kubeconfig at path.
func Load(path string) (*clientcmdapi.Config, error) {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, nil
}

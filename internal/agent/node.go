package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tugcluster/tug/internal/memtrim"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/dns"
	"github.com/tugcluster/tug/internal/images"
	"github.com/tugcluster/tug/internal/join"
	"github.com/tugcluster/tug/internal/kubelet"
	kubeletserver "github.com/tugcluster/tug/internal/kubelet/server"
	"github.com/tugcluster/tug/internal/network/cni"
	"github.com/tugcluster/tug/internal/network/routes"
	"github.com/tugcluster/tug/internal/proxy"
	"github.com/tugcluster/tug/internal/runtime/containerd"
	"github.com/tugcluster/tug/internal/runtime/cri"
)

// runNode runs the containerd node agent: the container runtime (its own
// containerd unless given an endpoint), the images every node needs, the
// node's credentials, the kubelet API and the kubelet.
func runNode(ctx context.Context, opts Options) error {
	logger := klog.FromContext(ctx)
	agentDir := filepath.Join(opts.DataDir, "agent")
	if err := os.MkdirAll(agentDir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", agentDir, err)
	}
	nodeName, err := opts.nodeName()
	if err != nil {
		return err
	}
	nodeIPs, err := opts.nodeIPs()
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	endpoint := opts.ContainerRuntimeEndpoint
	cniConfDir := filepath.Join(agentDir, "cni", "net.d")
	if endpoint == "" {
		if err := containerd.CheckBinaries(); err != nil {
			return err
		}
		proc, err := containerd.Start(ctx, containerd.Options{DataDir: agentDir, CNIConfDir: cniConfDir})
		if err != nil {
			return err
		}
		g.Go(proc.Wait)
		endpoint = proc.Endpoint()
	}
	runtime, err := cri.Dial(ctx, endpoint)
	if err != nil {
		return err
	}
	defer func() { _ = runtime.Close() }()
	if err := runtime.WaitReady(ctx); err != nil {
		return err
	}
	scratch := filepath.Join(agentDir, "tmp")
	if err := os.MkdirAll(scratch, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", scratch, err)
	}
	if err := images.EnsurePause(ctx, endpoint, scratch); err != nil {
		return err
	}
	if err := images.ImportDir(ctx, endpoint, filepath.Join(agentDir, "images")); err != nil {
		return err
	}
	creds, err := join.NodeCredentials(ctx, opts.Server, opts.Token, filepath.Join(agentDir, "tls"), nodeName,
		addrsToIPs(nodeIPs), []string{nodeName})
	if err != nil {
		return fmt.Errorf("node credentials: %w", err)
	}
	cfg := rest.CopyConfig(creds.Config)
	cfg.UserAgent = "tug-agent/" + nodeName
	// Pod status, events and leases share this client: client-go's 5 QPS
	// (or the kubelet's 50) would make a node starting 100 pods wait on it.
	cfg.QPS, cfg.Burst = 1000, 2000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	k, err := kubelet.New(kubelet.Config{
		NodeName:    nodeName,
		NodeIPs:     nodeIPs,
		Labels:      opts.NodeLabels,
		Taints:      opts.taints,
		Client:      client,
		Runtime:     runtime.Runtime,
		Images:      runtime.Images,
		RootDir:     agentDir,
		PodLogsDir:  opts.PodLogsDir,
		ClusterDNS:  []string{opts.ClusterDNS},
		CAPEM:       creds.CAPEM,
		KubeletPort: int32(opts.KubeletPort),
		OnPodCIDR: func(_ context.Context, cidrs []string) error {
			return cni.WriteConfig(cniConfDir, cidrs, cni.Options{IPAMDataDir: filepath.Join(agentDir, "cni", "ipam")})
		},
	})
	if err != nil {
		return err
	}
	api, err := kubeletserver.New(kubeletserver.Options{
		BindAddress: opts.KubeletBindAddress,
		Port:        opts.KubeletPort,
		TLS: &tls.Config{
			Certificates: []tls.Certificate{creds.ServingCert},
			ClientCAs:    creds.CAPool,
			MinVersion:   tls.VersionTLS12,
		},
		Runtime:  runtime.Runtime,
		Pods:     k.Pods,
		NodeName: nodeName,
	})
	if err != nil {
		return err
	}
	clusterCIDR, serviceCIDR := netip.MustParsePrefix(opts.ClusterCIDR), netip.MustParsePrefix(opts.ServiceCIDR)
	router, err := routes.New(routes.Options{
		NodeName: nodeName, Client: client, Masquerade: opts.Masquerade,
		ClusterCIDRs: []netip.Prefix{clusterCIDR}, ServiceCIDRs: []netip.Prefix{serviceCIDR},
	})
	if err != nil {
		return err
	}
	g.Go(func() error { return router.Run(ctx) })
	serviceProxy, err := proxy.New(proxy.Options{
		Client: client, NodeName: nodeName, NodeIPs: nodeIPs,
		ClusterCIDRs: []netip.Prefix{clusterCIDR}, ServiceCIDRs: []netip.Prefix{serviceCIDR},
	})
	if err != nil {
		return err
	}
	g.Go(func() error { return serviceProxy.Run(ctx) })
	// The node's DNS server answers on its address; the kube-dns Service
	// (internal traffic policy Local) sends each pod's queries to it.
	dnsServer, err := dns.New(dns.Options{
		Client:            client,
		Addresses:         []string{net.JoinHostPort(nodeIPs[0].String(), "53")},
		DisableForwarding: opts.DisableDNSForwarding,
	})
	if err != nil {
		return err
	}
	g.Go(func() error { return dnsServer.Run(ctx) })
	g.Go(func() error { return publishDNSEndpoint(ctx, client, nodeName, nodeIPs[0]) })
	g.Go(func() error { return api.Start(ctx) })
	g.Go(func() error { return k.Run(ctx) })
	g.Go(func() error { releaseStartupPages(ctx); return nil })
	logger.Info("Node agent started", "node", nodeName, "runtime", endpoint)
	return g.Wait()
}

// startupSettle is how long after start-up the agent gives back the pages
// of its executable that only start-up used: by then it has registered,
// synced its informers and adopted running pods.
const startupSettle = 10 * time.Second

// releaseStartupPages pages out tug's executable once the agent has
// settled (see internal/memtrim); what the agent still runs faults back
// in. A kernel without MADV_PAGEOUT (before Linux 5.4) keeps the pages.
func releaseStartupPages(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(startupSettle):
	}
	advised, err := memtrim.ReleaseExecutablePages()
	klog.FromContext(ctx).V(2).Info("Released start-up pages of the executable", "advisedBytes", advised, "err", err)
}

// nodeName is --node-name, else the host name in lower case.
func (o Options) nodeName() (string, error) {
	if o.NodeName != "" {
		return o.NodeName, nil
	}
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("node name: %w", err)
	}
	return strings.ToLower(host), nil
}

// nodeIPs is --node-ip, else the address of the interface that holds the
// default route, else the first global unicast address of an interface
// that is up.
func (o Options) nodeIPs() ([]netip.Addr, error) {
	if o.NodeIP != "" {
		ip, err := netip.ParseAddr(o.NodeIP)
		if err != nil {
			return nil, fmt.Errorf("--node-ip: %w", err)
		}
		return []netip.Addr{ip}, nil
	}
	// Connecting a UDP socket sends nothing; it only picks the source
	// address the kernel would route from.
	if conn, err := net.Dial("udp4", "192.0.2.1:9"); err == nil {
		addr := conn.LocalAddr().(*net.UDPAddr)
		_ = conn.Close()
		if ip, ok := netip.AddrFromSlice(addr.IP.To4()); ok && ip.IsGlobalUnicast() {
			return []netip.Addr{ip}, nil
		}
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("node IP: %w", err)
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP.To4()); ok && ip.IsGlobalUnicast() {
					return []netip.Addr{ip}, nil
				}
			}
		}
	}
	return nil, errors.New("node IP: no interface has a global IPv4 address; set --node-ip")
}

func addrsToIPs(addrs []netip.Addr) []net.IP {
	out := make([]net.IP, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, net.IP(a.AsSlice()))
	}
	return out
}

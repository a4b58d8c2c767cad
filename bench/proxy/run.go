package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tugcluster/tug/bench/internal/benchkit"
	"github.com/tugcluster/tug/internal/proxy/nft"
	"github.com/tugcluster/tug/internal/proxy/proxytest"
)

// Address plan of the generated cluster: Services from 10.96.0.0/12, pods
// from 10.64.0.0/11. Nothing is sent to them: the benchmark only writes
// rules, in a namespace of its own.
var (
	serviceCIDR = netip.MustParsePrefix("10.96.0.0/12")
	clusterCIDR = netip.MustParsePrefix("10.64.0.0/11")
	nodeIP      = netip.MustParseAddr("192.168.77.1")
)

// nodeName is the benchmark's node; one endpoint in nodesPerService runs on
// it, the rest elsewhere.
const (
	nodeName        = "bench-node"
	nodesPerService = 50
	// nodePortEvery gives every tenth Service a NodePort (and so an
	// external chain), up to the size of the NodePort range.
	nodePortEvery = 10
	nodePortFirst = 30000
	nodePortCount = 2768
)

// measurements are the figures of one size.
type measurements struct {
	services     int
	full         time.Duration
	fullStats    nft.Stats
	kernelChains int
	kernelRules  int
	stateHeap    int64
	syncerHeap   int64
	noChange     []time.Duration
	replaced     []time.Duration
	replacedMsgs int
	endpoint     []time.Duration
	endpointMsgs int
	add          []time.Duration
	addMsgs      int
	remove       []time.Duration
	removeMsgs   int
}

// run parses args, runs the benchmark and prints its table.
func run(ctx context.Context, args []string) error {
	o, err := parseOptions(args, os.Stderr)
	if err != nil {
		return err
	}
	logf := o.Progress(os.Stderr)
	loadBefore := benchkit.LoadAverage()
	var ms []*measurements
	for _, n := range o.Sizes {
		logf("%d Services × %d endpoints", n, o.Endpoints)
		m, err := measure(ctx, &o, n, logf)
		if err != nil {
			return err
		}
		ms = append(ms, m)
	}
	return printReport(os.Stdout, &o, args, loadBefore, ms)
}

// measure programs a fresh namespace with n Services and measures the
// syncs.
func measure(ctx context.Context, o *Options, n int, logf func(string, ...any)) (m *measurements, err error) {
	ns, err := proxytest.Create("tugbench")
	if err != nil {
		return nil, err
	}
	defer func() {
		if derr := ns.Delete(); err == nil {
			err = derr
		}
	}()
	s, err := nft.NewSyncer(nft.Options{
		NodeName: nodeName, NodeIPs: []netip.Addr{nodeIP}, NetNSFd: ns.Fd(), Timeout: 5 * time.Minute,
		ClusterCIDRs: []netip.Prefix{clusterCIDR}, ServiceCIDRs: []netip.Prefix{serviceCIDR},
	})
	if err != nil {
		return nil, err
	}
	st := &nft.State{Services: make(map[string]*nft.Service, n)}
	for i := range n {
		svc := newService(i, o.Endpoints)
		st.Services[svc.Namespace+"/"+svc.Name] = svc
	}
	m = &measurements{services: n}
	sync := func() (time.Duration, nft.Stats, error) {
		start := time.Now()
		stats, err := s.Sync(ctx, st)
		return time.Since(start), stats, err
	}

	before := heapAlloc()
	if m.full, m.fullStats, err = sync(); err != nil {
		return nil, fmt.Errorf("full sync of %d Services: %w", n, err)
	}
	logf("  full sync %v, %d messages", m.full.Round(time.Millisecond), m.fullStats.Messages)
	m.stateHeap, m.syncerHeap = before, heapAlloc()-before
	out, err := ns.Command("nft", "-j", "list", "table", "ip", nft.DefaultTable).Output()
	if err != nil {
		return nil, fmt.Errorf("list the table: %w", err)
	}
	tab, err := proxytest.ParseTable(out)
	if err != nil {
		return nil, err
	}
	m.kernelChains, m.kernelRules = len(tab.Chains), tab.Rules()

	step := n / o.Repeats
	for i := range o.Repeats {
		d, _, err := sync()
		if err != nil {
			return nil, err
		}
		m.noChange = append(m.noChange, d)

		// A pod is replaced: one endpoint gets a new address.
		svc := newService(i*step+1, o.Endpoints)
		svc.Ports[0].Endpoints[0].Addr = nth(clusterCIDR, (n+o.Repeats+i)*o.Endpoints+1)
		st.Services[svc.Namespace+"/"+svc.Name] = svc
		d, stats, err := sync()
		if err != nil {
			return nil, err
		}
		m.replaced, m.replacedMsgs = append(m.replaced, d), stats.Messages

		// One endpoint of one Service goes away (a pod deleted).
		svc = newService(i*step, o.Endpoints)
		svc.Ports[0].Endpoints = svc.Ports[0].Endpoints[1:]
		st.Services[svc.Namespace+"/"+svc.Name] = svc
		if d, stats, err = sync(); err != nil {
			return nil, err
		}
		m.endpoint, m.endpointMsgs = append(m.endpoint, d), stats.Messages

		// A Service is created with its endpoints.
		added := newService(n+i, o.Endpoints)
		st.Services[added.Namespace+"/"+added.Name] = added
		if d, stats, err = sync(); err != nil {
			return nil, err
		}
		m.add, m.addMsgs = append(m.add, d), stats.Messages

		// And deleted.
		delete(st.Services, added.Namespace+"/"+added.Name)
		if d, stats, err = sync(); err != nil {
			return nil, err
		}
		m.remove, m.removeMsgs = append(m.remove, d), stats.Messages
	}
	logf("  incremental syncs: endpoint p50 %v, Service added p50 %v",
		benchkit.Percentile(slices.Clone(m.endpoint), 50), benchkit.Percentile(slices.Clone(m.add), 50))
	return m, nil
}

// heapAlloc is the Go heap in use after a collection.
func heapAlloc() int64 {
	runtime.GC()
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	return int64(mem.HeapAlloc)
}

// newService is Service i: a cluster IP, one TCP port, endpoints ready
// pods, and a NodePort for every tenth.
func newService(i, endpoints int) *nft.Service {
	svc := &nft.Service{
		Namespace:  fmt.Sprintf("ns-%d", i%100),
		Name:       fmt.Sprintf("svc-%d", i),
		ClusterIPs: []netip.Addr{nth(serviceCIDR, i+1)},
	}
	p := nft.Port{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}
	if i%nodePortEvery == 0 && i/nodePortEvery < nodePortCount {
		p.NodePort = uint16(nodePortFirst + i/nodePortEvery)
	}
	for j := range endpoints {
		node := fmt.Sprintf("node-%d", j%nodesPerService)
		if j%nodesPerService == 0 {
			node = nodeName
		}
		p.Endpoints = append(p.Endpoints, nft.Endpoint{
			Addr: nth(clusterCIDR, i*endpoints+j+1), Port: 8080, Ready: true, Serving: true, NodeName: node,
		})
	}
	svc.Ports = []nft.Port{p}
	return svc
}

// nth is the n-th address of p.
func nth(p netip.Prefix, n int) netip.Addr {
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

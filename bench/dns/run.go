package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"time"

	"github.com/miekg/dns"

	"github.com/tugcluster/tug/bench/internal/benchkit"
	tugdns "github.com/tugcluster/tug/internal/dns"
)

// kind is one kind of query: the name asked for the i-th query and the
// check of its answer.
type kind struct {
	label string
	qtype uint16
	name  func(i int64) string
	check func(resp *dns.Msg) error
}

// figures are the measurements of one kind.
type figures struct {
	label   string
	answers int // records in the answer section
	result  benchkit.Result
	lat     benchkit.Latencies
}

// measurements are the figures of one run.
type measurements struct {
	objects   int
	load      time.Duration // building the store
	heapBytes uint64        // Go heap in use after loading it
	kinds     []figures
}

// run parses args, runs the benchmark and prints its table.
func run(ctx context.Context, args []string) error {
	o, err := parseOptions(args, os.Stderr)
	if err != nil {
		return err
	}
	logf := o.Progress(os.Stderr)
	loadBefore := benchkit.LoadAverage()
	m, err := measure(ctx, &o, logf)
	if err != nil {
		return err
	}
	return printReport(os.Stdout, &o, args, loadBefore, m)
}

// measure loads the store, serves it on loopback and runs every kind.
func measure(ctx context.Context, o *Options, logf func(string, ...any)) (*measurements, error) {
	c := cluster{o: o}
	m := &measurements{}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	objs := c.objects()
	store, err := tugdns.NewStore(objs...)
	if err != nil {
		return nil, err
	}
	m.objects, m.load = len(objs), time.Since(start)
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	m.heapBytes = after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
	runtime.KeepAlive(store)
	logf("store of %d objects built in %v", m.objects, m.load.Round(time.Millisecond))

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errors.Join(err, pc.Close())
	}
	srv, err := tugdns.New(tugdns.Options{Store: store, Domain: domain, DisableForwarding: true,
		PacketConns: []net.PacketConn{pc}, Listeners: []net.Listener{l}})
	if err != nil {
		return nil, errors.Join(err, pc.Close(), l.Close())
	}
	srvCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(srvCtx) }()
	for _, k := range kinds(c) {
		logf("measuring %s for %v with %d clients", k.label, o.Duration, o.Clients)
		f, kerr := measureKind(ctx, pc.LocalAddr().String(), o, k)
		if kerr != nil {
			err = fmt.Errorf("%s: %w", k.label, kerr)
			break
		}
		m.kinds = append(m.kinds, f)
	}
	stop()
	if err := errors.Join(err, <-done); err != nil {
		return nil, err
	}
	return m, nil
}

// kinds are the queries measured; the i-th query of each walks the
// Services with a stride so that consecutive queries hit different ones.
func kinds(c cluster) []kind {
	n := int64(c.o.Services)
	every := int64(c.o.HeadlessEvery)
	pick := func(i int64) int { return int((i * 7919) % n) }
	clusterIPSvc := func(i int64) int {
		switch s := pick(i); {
		case !c.headless(s):
			return s
		case s == 0:
			return 1
		default:
			return s - 1
		}
	}
	headlessSvc := func(i int64) int { return int(((i * 7919) % (n / every)) * every) }
	eps := c.o.Endpoints
	return []kind{
		{label: "Service A", qtype: dns.TypeA, name: func(i int64) string { return c.fqdn(clusterIPSvc(i)) },
			check: expect(dns.RcodeSuccess, 1)},
		{label: "headless Service A", qtype: dns.TypeA, name: func(i int64) string { return c.fqdn(headlessSvc(i)) },
			check: expect(dns.RcodeSuccess, eps)},
		{label: "StatefulSet pod A (web-0.svc…)", qtype: dns.TypeA,
			name: func(i int64) string { return "web-0." + c.fqdn(headlessSvc(i)) }, check: expect(dns.RcodeSuccess, 1)},
		{label: "SRV, ClusterIP Service", qtype: dns.TypeSRV,
			name: func(i int64) string { return "_http._tcp." + c.fqdn(clusterIPSvc(i)) }, check: expect(dns.RcodeSuccess, 1)},
		{label: "SRV, headless Service", qtype: dns.TypeSRV,
			name: func(i int64) string { return "_http._tcp." + c.fqdn(headlessSvc(i)) }, check: expect(dns.RcodeSuccess, eps)},
		{label: "PTR of a cluster IP", qtype: dns.TypePTR, name: func(i int64) string {
			name, _ := dns.ReverseAddr(c.clusterIP(clusterIPSvc(i)).String())
			return name
		}, check: expect(dns.RcodeSuccess, 1)},
		{label: "PTR of an endpoint IP", qtype: dns.TypePTR, name: func(i int64) string {
			name, _ := dns.ReverseAddr(c.podIP(pick(i), int(i)%eps).String())
			return name
		}, check: expect(dns.RcodeSuccess, 1)},
		{label: "NXDOMAIN (no such Service)", qtype: dns.TypeA,
			name: func(i int64) string { return "nosuch-" + c.fqdn(pick(i)) }, check: expect(dns.RcodeNameError, 0)},
	}
}

// expect checks the rcode and the number of answer records, so that a
// fast wrong answer does not count.
func expect(rcode, answers int) func(*dns.Msg) error {
	return func(resp *dns.Msg) error {
		if resp.Rcode != rcode || len(resp.Answer) != answers || resp.Truncated {
			return fmt.Errorf("answer %s with %d records (truncated %v), want %s with %d",
				dns.RcodeToString[resp.Rcode], len(resp.Answer), resp.Truncated, dns.RcodeToString[rcode], answers)
		}
		return nil
	}
}

// measureKind runs o.Clients clients, each on its own UDP socket asking
// one query at a time with EDNS (1232 bytes, as Go's and systemd's
// resolvers do), for o.Duration.
func measureKind(ctx context.Context, addr string, o *Options, k kind) (figures, error) {
	client := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	conns := make([]*dns.Conn, o.Clients)
	lats := make([][]time.Duration, o.Clients)
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	for w := range conns {
		c, err := client.DialContext(ctx, addr)
		if err != nil {
			return figures{}, err
		}
		conns[w] = c
		lats[w] = make([]time.Duration, 0, 1<<16)
	}
	// A first query per kind outside the measurement, to check the answer
	// and count its records.
	first, _, err := client.ExchangeWithConnContext(ctx, request(k.name(0), k.qtype), conns[0])
	if err != nil {
		return figures{}, err
	}
	if err := k.check(first); err != nil {
		return figures{}, fmt.Errorf("%s: %w", k.name(0), err)
	}
	res, err := benchkit.RunOps(ctx, o.Clients, benchkit.Limit{Duration: o.Duration}, func(ctx context.Context, w int, i int64) error {
		req := request(k.name(i), k.qtype)
		start := time.Now()
		resp, _, err := client.ExchangeWithConnContext(ctx, req, conns[w])
		lats[w] = append(lats[w], time.Since(start))
		if err != nil {
			return err
		}
		if err := k.check(resp); err != nil {
			return fmt.Errorf("%s: %w", req.Question[0].Name, err)
		}
		return nil
	})
	if err != nil {
		return figures{}, err
	}
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	return figures{label: k.label, answers: len(first.Answer), result: res, lat: benchkit.Summarize(all)}, nil
}

func request(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg).SetQuestion(name, qtype)
	m.SetEdns0(1232, false)
	return m
}

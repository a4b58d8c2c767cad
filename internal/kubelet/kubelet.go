// Package kubelet runs the pods bound to one node on real containers
// through CRI: it registers the node and renews its Lease, and a pod worker
// per pod brings the runtime in line with the pod's spec (sandbox, init
// containers, containers, restarts with back-off, probes, graceful
// termination) and reports the pod's status as Kubernetes does.
package kubelet

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/tugcluster/tug/internal/controller"
	"github.com/tugcluster/tug/internal/kubelet/probes"
	"github.com/tugcluster/tug/internal/kubelet/volumes"
)

// Config is what a Kubelet needs; New fills the defaults noted.
type Config struct {
	// NodeName names the node. Required.
	NodeName string
	// NodeIPs are the node's addresses, first the InternalIP. Required.
	NodeIPs []netip.Addr
	// Hostname is the node's hostname address. Default NodeName.
	Hostname string
	// Labels and Taints are set on the Node at registration.
	Labels map[string]string
	Taints []corev1.Taint
	// Client talks to the API server as the node.
	Client kubernetes.Interface
	// Runtime and Images are the CRI services of the container runtime.
	Runtime runtimeapi.RuntimeServiceClient
	Images  runtimeapi.ImageServiceClient
	// RuntimeName prefixes container IDs in pod status. Default "containerd".
	RuntimeName string
	// RootDir holds the pods' volumes (<RootDir>/pods). Required.
	RootDir string
	// PodLogsDir holds the CRI log files. Default /var/log/pods.
	PodLogsDir string
	// ClusterDNS and ClusterDomain go into pods' resolv.conf. Defaults
	// 10.43.0.10 and cluster.local.
	ClusterDNS    []string
	ClusterDomain string
	// CAPEM is the cluster CA, for service-account volumes.
	CAPEM []byte
	// KubeletPort is the port of the kubelet API, advertised in the node's
	// status. Default 10250.
	KubeletPort int32
	// MaxPods is the node's pod capacity. Default 110.
	MaxPods int
	// OnPodCIDR is called with the node's pod CIDRs once the node IPAM
	// controller has set them (and again when they change): the agent
	// writes its CNI configuration. Optional.
	OnPodCIDR func(ctx context.Context, cidrs []string) error
	// Clock is the kubelet's clock. Default the real one.
	Clock clock.WithTicker
	// Workers is how many pods are synced at once. Default 16.
	Workers int
}

// Defaults of Config fields a user can see.
const (
	DefaultPodLogsDir    = "/var/log/pods"
	DefaultClusterDNS    = "10.43.0.10"
	DefaultClusterDomain = "cluster.local"
	DefaultKubeletPort   = 10250
	DefaultMaxPods       = 110
)

func (c Config) withDefaults() Config {
	if c.Hostname == "" {
		c.Hostname = c.NodeName
	}
	if c.RuntimeName == "" {
		c.RuntimeName = "containerd"
	}
	if c.PodLogsDir == "" {
		c.PodLogsDir = DefaultPodLogsDir
	}
	if len(c.ClusterDNS) == 0 {
		c.ClusterDNS = []string{DefaultClusterDNS}
	}
	if c.ClusterDomain == "" {
		c.ClusterDomain = DefaultClusterDomain
	}
	if c.KubeletPort == 0 {
		c.KubeletPort = DefaultKubeletPort
	}
	if c.MaxPods == 0 {
		c.MaxPods = DefaultMaxPods
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Workers == 0 {
		c.Workers = 16
	}
	return c
}

// Kubelet runs one node's pods. Build it with New, then Run it.
type Kubelet struct {
	cfg      Config
	client   kubernetes.Interface
	runtime  runtimeapi.RuntimeServiceClient
	images   runtimeapi.ImageServiceClient
	clock    clock.WithTicker
	recorder record.EventRecorder
	events   record.EventBroadcaster

	informers informers.SharedInformerFactory
	pods      cache.SharedIndexInformer
	services  cache.SharedIndexInformer
	loop      *controller.Loop

	volumes *volumes.Manager
	probes  *probes.Manager
	backoff *flowcontrol.Backoff

	node     nodeInfo
	statuses statusCache
	resize   resizeState

	admission podAdmission // see admit.go

	mu sync.Mutex
	// startErrors is the last failure to start each container
	// (uid/name), shown as its waiting reason until it starts.
	startErrors map[string]waitingReason
	// terminating holds the pods whose containers are being stopped, by a
	// goroutine of terminations.
	terminating  map[types.UID]bool
	terminations sync.WaitGroup
	// startTimes remembers when the kubelet first saw each pod.
	startTimes map[types.UID]time.Time
}

// waitingReason is a container's waiting state reason and message.
type waitingReason struct{ reason, message string }

// uidIndex indexes pods by UID: runtime objects carry only the UID.
const uidIndex = "uid"

// New builds a kubelet for cfg.
func New(cfg Config) (*Kubelet, error) {
	cfg = cfg.withDefaults()
	switch {
	case cfg.NodeName == "":
		return nil, errors.New("kubelet: node name is required")
	case len(cfg.NodeIPs) == 0:
		return nil, errors.New("kubelet: node IP is required")
	case cfg.Client == nil || cfg.Runtime == nil || cfg.Images == nil:
		return nil, errors.New("kubelet: client and runtime are required")
	case cfg.RootDir == "":
		return nil, errors.New("kubelet: root directory is required")
	}
	k := &Kubelet{
		cfg:         cfg,
		client:      cfg.Client,
		runtime:     cfg.Runtime,
		images:      cfg.Images,
		clock:       cfg.Clock,
		backoff:     flowcontrol.NewBackOff(backoffInitial, backoffMax),
		startErrors: map[string]waitingReason{},
		terminating: map[types.UID]bool{},
		startTimes:  map[types.UID]time.Time{},
	}
	k.events = record.NewBroadcaster()
	k.recorder = k.events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: cfg.NodeName})

	k.informers = informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0)
	k.services = k.informers.Core().V1().Services().Informer()
	k.pods = informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", cfg.NodeName).String()
		})).Core().V1().Pods().Informer()
	if err := k.pods.AddIndexers(cache.Indexers{uidIndex: func(obj any) ([]string, error) {
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return nil, nil
		}
		return []string{string(pod.UID)}, nil
	}}); err != nil {
		return nil, fmt.Errorf("kubelet: index pods: %w", err)
	}
	k.loop = controller.New("kubelet-pods", cfg.Workers, k.syncPod)
	if _, err := k.pods.AddEventHandler(controller.OnEvery(func(obj any) {
		if pod, ok := controller.As[*corev1.Pod](obj); ok {
			k.loop.Enqueue(string(pod.UID))
		}
	})); err != nil {
		return nil, fmt.Errorf("kubelet: watch pods: %w", err)
	}
	allocatable, err := machineAllocatable(cfg)
	if err != nil {
		return nil, err
	}
	k.volumes = volumes.New(volumes.Options{
		RootDir:         podsDir(cfg.RootDir),
		Client:          cfg.Client,
		NodeName:        cfg.NodeName,
		NodeAllocatable: allocatable,
		CAPEM:           cfg.CAPEM,
		Clock:           cfg.Clock,
	})
	k.probes = probes.NewManager(k.execProbe, cfg.Clock, func(uid types.UID) { k.loop.Enqueue(string(uid)) })
	return k, nil
}

// Run registers the node and runs its pods until ctx ends.
func (k *Kubelet) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx).WithValues("node", k.cfg.NodeName)
	ctx = klog.NewContext(ctx, logger)
	k.events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: k.client.CoreV1().Events("")})
	defer k.events.Shutdown()

	if err := k.initNode(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		wg.Wait()
		k.terminations.Wait()
	}()
	k.informers.Start(ctx.Done())
	wg.Go(func() { k.pods.Run(ctx.Done()) })
	wg.Go(func() { k.probes.Run(ctx) })
	wg.Go(func() { k.runNodeStatus(ctx) })
	wg.Go(func() { k.runLease(ctx) })
	wg.Go(func() { k.runRelist(ctx) })
	wg.Go(func() { k.runHousekeeping(ctx) })
	logger.Info("Kubelet started", "nodeIPs", k.cfg.NodeIPs)
	return k.loop.Run(ctx, k.pods.HasSynced, k.services.HasSynced)
}

// Pods returns the pods bound to this node, from the cache; callers must
// not modify them.
func (k *Kubelet) Pods() []*corev1.Pod {
	var pods []*corev1.Pod
	for _, obj := range k.pods.GetStore().List() {
		if pod, ok := obj.(*corev1.Pod); ok {
			pods = append(pods, pod)
		}
	}
	return pods
}

// podByUID returns the cached pod with uid, or nil.
func (k *Kubelet) podByUID(uid types.UID) *corev1.Pod {
	objs, err := k.pods.GetIndexer().ByIndex(uidIndex, string(uid))
	if err != nil || len(objs) == 0 {
		return nil
	}
	pod, _ := objs[0].(*corev1.Pod)
	return pod
}

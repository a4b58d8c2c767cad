// Package internal holds all of tug; it is a product, not a library, so
// nothing here is importable from outside the module. The folders mirror
// the architecture in the design; this map lists the packages that exist
// today.
//
//	cli/                 the command line: a cobra root and one file per
//	                     command; flags fill Options structs, no logic.
//	version/             which build is running: release, git commit and
//	                     the Kubernetes API version served.
//	server/              composition root of `tug server`: storage,
//	                     certificates, API server, bootstrap objects, the
//	                     leader-elected scheduler and the in-process
//	                     controllers, started in order; their informers
//	                     read the API server's watch cache (shared.go).
//	agent/               composition root of `tug agent` (and of the node
//	                     agent inside `tug server`): runtime, images,
//	                     credentials, kubelet API and kubelet.
//	memtrim/             pages out the executable's start-up pages.
//	  simulated/         --simulated: nodes, leases and pods that run and
//	                     complete without containers, for scale.
//	kubelet/             one node's pods on real containers through CRI:
//	                     node registration, Lease and status; pod workers
//	                     (sandbox, init containers, containers, restarts,
//	                     hooks, termination), admission (host ports, node
//	                     affinity), in-place resize and pod status.
//	  volumes/           volume set-up on the host and container mounts.
//	  probes/            liveness/readiness/startup probes and their workers.
//	  fieldpath/         downward-API values for env and volumes.
//	  logs/              reading CRI log files (tail, since, follow).
//	  server/            the kubelet API on 10250: logs, exec, attach,
//	                     port-forward, pods, stats.
//	runtime/cri/         the CRI client (gRPC over a unix socket).
//	runtime/containerd/  the containerd child process an agent supervises.
//	images/              image archives without a registry: the pause
//	                     binary tug assembles, busybox for tests, import.
//	network/cni/         the CNI bridge config for a node's pod CIDR.
//	network/routes/      routes to other nodes' pod CIDRs, blackholes,
//	                     masquerading.
//	proxy/               the service proxy: Services and EndpointSlices
//	  nft/               to nftables rules, synced incrementally.
//	  proxytest/         network namespaces and traffic for its tests.
//	dns/                 cluster DNS (cluster.local) from informer caches.
//	join/                how an agent that knows the URL and the join
//	                     token gets the cluster CA and its node
//	                     certificates.
//	auth/serviceaccount/ service-account JWTs: issued by TokenRequest,
//	                     checked by the API server's authentication.
//	apiserver/           the HTTP surface: handler chain, health, version,
//	                     self reviews, and the wiring below.
//	  endpoints/         request info, content negotiation, CRUD, patch,
//	                     server-side apply, watch, scale and binding.
//	  filters/           recovery and authentication stages.
//	  registry/          the one generic REST store and its Strategy hooks.
//	  resources/         the catalog of served resources and the scheme;
//	    core/ apps/ batch/  per-resource strategies (apiextensions/: CRDs).
//	  customresources/   CRDs established, their custom resources served
//	    schema/          through the one registry; schema/ validates,
//	                     prunes and defaults them by the CRD's schema.
//	  convert/           a resource served from another version's storage.
//	  discovery/         legacy and aggregated discovery documents.
//	  openapi/           OpenAPI v2 and v3 documents from the Go types
//	                     and the CRDs' schemas.
//	  tables/            kubectl's table columns per kind.
//	  watchcache/        per-resource memory cache serving lists and watches.
//	  metrics/           Prometheus metrics of requests and storage.
//	admission/           admission plugins: LimitRanger, ServiceAccount,
//	                     RuntimeClass, Priority, DefaultTolerationSeconds,
//	                     ResourceQuota; validatingpolicy/ and
//	                     mutatingpolicy/: the CEL rules of admission
//	                     policies, sharing policycel/.
//	quota/               what an object charges to a ResourceQuota, its
//	  quotatest/         scopes and messages; shared by the controller
//	                     and the admission plugin.
//	scheduler/           the scheduling loop, binding and failure reporting.
//	  framework/         the plugin contract: Status, CycleState, NodeInfo,
//	                     one interface per extension point.
//	  queue/ cache/      the scheduling queue; NodeInfos, assumed pods and
//	                     the per-cycle snapshot.
//	  runtime/           runs a profile's plugins; implements the Handle.
//	  plugins/<name>/    one package per plugin; registry.go lists them.
//	cron/                CronJob schedules: parsing and the next firing time.
//	controller/          the one informer + workqueue loop.
//	controllers/         garbagecollector/, namespace/, serviceaccount/,
//	                     rootcacert/, nodeipam/, nodelifecycle/,
//	                     replicaset/ (and ReplicationControllers),
//	                     deployment/, job/, cronjob/, ttlafterfinished/,
//	                     statefulset/, daemonset/ (history/ keeps their
//	                     ControllerRevisions), endpoints/, endpointslice/,
//	                     endpointslicemirroring/, disruption/,
//	                     servicelb/, resourcequota/: each
//	                     only a sync function.
//	storage/             storage.Interface, the object store the API server
//	                     uses, and the Backend contract that engines
//	                     implement; doc.go states the contract.
//	  storagetest/       the one test suite every backend runs.
//	  bolt/              the default backend: a bbolt file plus a write-ahead
//	                     log with group commit, in the data directory.
//	  etcd/              the backend over the etcd v3 API.
//	pki/                 the cluster CA and what it signs (serving and admin
//	                     certificates), the service-account key and the
//	                     join token: made at first start, reused after.
//	kubeconfig/          builds, writes and loads kubeconfig files.
//	atomicfile/          whole-or-nothing file writes (temp file + rename).
//	testutil/            starts real servers for tests; finds kubectl.
//	  containerdtest/    a private containerd with pause and busybox.
//	  nodetest/          real nodes: agents in network namespaces.
//
// RBAC, the remaining admission plugins and controllers arrive with later
// issues, each in the folder the code conventions lay out.
package internal

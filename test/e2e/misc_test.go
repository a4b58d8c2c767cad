package e2e

import (
	"strings"
	"testing"
)

// testDiff: kubectl diff exits 1 with a diff when the manifest differs
// from the live object, 0 when it does not, and changes nothing.
func testDiff(t *testing.T, k *kubectl) {
	k.okIn(settingsConfigMap+"---\n"+webDeployment, "apply", "-f", "-")
	rv := k.field("configmap settings", "{.metadata.resourceVersion}")

	k.okIn(settingsConfigMap, "diff", "-f", "-").equals(t, "")
	k.okIn(webDeployment, "diff", "-f", "-").equals(t, "")
	// Server-side diff, of an object made by server-side apply (kubectl
	// would rewrite a client-side apply annotation).
	ssa := strings.Replace(settingsConfigMap, "name: settings", "name: ssa", 1)
	k.okIn(ssa, "apply", "--server-side", "-f", "-")
	k.okIn(ssa, "diff", "--server-side", "-f", "-").equals(t, "")

	for _, c := range []struct {
		manifest string
		args     []string
	}{
		{settingsConfigMap, []string{"diff", "-f", "-"}},
		{ssa, []string{"diff", "--server-side", "-f", "-"}},
	} {
		r := k.runIn(strings.Replace(c.manifest, "mode: blue", "mode: green", 1), c.args...)
		if r.code != 1 {
			t.Errorf("diff of a changed object: exit code %d, want 1:\n%s", r.code, r)
		}
		if got := changedLines(r.stdout); got != "-  mode: blue\n+  mode: green" {
			t.Errorf("diff of a changed object: changed lines\n%s\nwant only the mode:\n%s", got, r)
		}
	}
	k.wantField("configmap ssa", "{.data.mode}", "blue")
	r := k.runIn(strings.Replace(webDeployment, "replicas: 1", "replicas: 5", 1), "diff", "-f", "-")
	if got := changedLines(r.stdout); r.code != 1 || got != "-  generation: 1\n+  generation: 2\n-  replicas: 1\n+  replicas: 5" {
		t.Errorf("diff of a scaled deployment: exit %d, changed lines\n%s\nwant generation and replicas, nothing else:\n%s", r.code, got, r)
	}

	fresh := strings.Replace(settingsConfigMap, "name: settings", "name: fresh", 1)
	r = k.runIn(fresh, "diff", "-f", "-")
	if r.code != 1 || !strings.Contains(r.stdout, "+  name: fresh") || !strings.Contains(r.stdout, "+  mode: blue") {
		t.Errorf("diff of a new object: want exit 1 and the whole object added:\n%s", r)
	}
	k.wantNotFound("configmap fresh")
	k.wantField("configmap settings", "{.metadata.resourceVersion} {.data.mode}", rv+" blue")
}

// changedLines returns the -/+ lines of a unified diff, without the file
// headers.
func changedLines(diff string) string {
	var out []string
	for _, line := range strings.Split(diff, "\n") {
		if strings.HasPrefix(line, "---") || strings.HasPrefix(line, "+++") {
			continue
		}
		if strings.HasPrefix(line, "-") || strings.HasPrefix(line, "+") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// testExplain: kubectl explain reads the OpenAPI documents.
func testExplain(t *testing.T, k *kubectl) {
	k.ok("explain", "pods.spec.containers").matches(t,
		`^KIND:\s+Pod$`,
		`^VERSION:\s+v1$`,
		`^FIELD: containers <\[\]Container>$`,
		`^DESCRIPTION:$`,
		`List of containers belonging to the pod\.`,
		`^FIELDS:$`,
		`^  image\t<string>$`,
		`^  name\t<string> -required-$`,
		`^  ports\t<\[\]ContainerPort>$`,
		`^  resources\t<ResourceRequirements>$`)
	k.ok("explain", "deployment.spec.replicas").matches(t,
		`^GROUP:\s+apps$`,
		`^KIND:\s+Deployment$`,
		`^VERSION:\s+v1$`,
		`^FIELD: replicas <integer>$`,
		`Number of desired pods\.`)
	k.ok("explain", "configmaps").matches(t, `^KIND:\s+ConfigMap$`, `^  data\t<map\[string\]string>$`, `^  metadata\t<ObjectMeta>$`)
	k.ok("explain", "deployment.spec.strategy", "--recursive").matches(t,
		`^  rollingUpdate\t<RollingUpdateDeployment>$`,
		`^    maxSurge\t<IntOrString>$`,
		`^  type\t<string>$`)
	k.fails("explain", "configmap.nope").hasErr(t, `field "nope" does not exist`)
}

// testAPIResources: kubectl api-resources and api-versions read discovery.
func testAPIResources(t *testing.T, k *kubectl) {
	k.ok("api-resources").matches(t,
		`^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$`,
		`^pods\s+po\s+v1\s+true\s+Pod$`,
		`^namespaces\s+ns\s+v1\s+false\s+Namespace$`,
		`^configmaps\s+cm\s+v1\s+true\s+ConfigMap$`,
		`^services\s+svc\s+v1\s+true\s+Service$`,
		`^serviceaccounts\s+sa\s+v1\s+true\s+ServiceAccount$`,
		`^events\s+ev\s+v1\s+true\s+Event$`,
		`^deployments\s+deploy\s+apps/v1\s+true\s+Deployment$`,
		`^jobs\s+batch/v1\s+true\s+Job$`,
		`^cronjobs\s+cj\s+batch/v1\s+true\s+CronJob$`,
		`^horizontalpodautoscalers\s+hpa\s+autoscaling/v2\s+true\s+HorizontalPodAutoscaler$`,
		`^customresourcedefinitions\s+crd,crds\s+apiextensions\.k8s\.io/v1\s+false\s+CustomResourceDefinition$`,
		`^clusterroles\s+rbac\.authorization\.k8s\.io/v1\s+false\s+ClusterRole$`,
		`^leases\s+coordination\.k8s\.io/v1\s+true\s+Lease$`)
	k.ok("api-resources", "-o", "wide").matches(t,
		`^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND\s+VERBS\s+CATEGORIES$`,
		`^pods\s+po\s+v1\s+true\s+Pod\s+create,delete,deletecollection,get,list,patch,update,watch\s+all$`,
		`^bindings\s+v1\s+true\s+Binding\s+create\s*$`,
		`^deployments\s+deploy\s+apps/v1\s+true\s+Deployment\s+create,delete,deletecollection,get,list,patch,update,watch\s+all$`)
	k.ok("api-resources", "--api-group=apps", "-o", "name").
		equals(t, "controllerrevisions.apps\ndaemonsets.apps\ndeployments.apps\nreplicasets.apps\nstatefulsets.apps")
	k.ok("api-resources", "--namespaced=false", "-o", "name").has(t, "namespaces\n", "nodes\n", "persistentvolumes\n").lacks(t, "\npods\n")
	k.ok("api-resources", "--verbs=list", "--api-group=batch", "-o", "name").equals(t, "cronjobs.batch\njobs.batch")

	out := k.ok("api-versions").stdout
	have := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		have[line] = true
	}
	for _, gv := range []string{
		"admissionregistration.k8s.io/v1", "apiextensions.k8s.io/v1", "apiregistration.k8s.io/v1", "apps/v1",
		"authentication.k8s.io/v1", "authorization.k8s.io/v1", "autoscaling/v1", "autoscaling/v2", "batch/v1",
		"certificates.k8s.io/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1", "events.k8s.io/v1",
		"flowcontrol.apiserver.k8s.io/v1", "networking.k8s.io/v1", "node.k8s.io/v1", "policy/v1",
		"rbac.authorization.k8s.io/v1", "scheduling.k8s.io/v1", "storage.k8s.io/v1", "v1",
	} {
		if !have[gv] {
			t.Errorf("api-versions lacks %s:\n%s", gv, out)
		}
	}
}

// testCreate: kubectl create of each common kind, with the server's
// defaults.
func testCreate(t *testing.T, k *kubectl) {
	ns := k.ns + "-extra"
	k.ok("create", "namespace", ns).equals(t, "namespace/"+ns+" created")
	k.wantField("namespace "+ns, "{.status.phase}", "Active")
	k.wantField("namespace "+ns, "{.spec.finalizers}", `["kubernetes"]`)

	k.ok("create", "configmap", "c", "--from-literal=a=1", "--from-literal=b=two").equals(t, "configmap/c created")
	k.wantField("configmap c", "{.data}", `{"a":"1","b":"two"}`)
	k.fails("create", "configmap", "c").hasErr(t, `error: failed to create configmap: configmaps "c" already exists`)
	k.failsIn("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n", "create", "-f", "-").
		hasErr(t, `Error from server (AlreadyExists): error when creating "STDIN": configmaps "c" already exists`)

	k.ok("create", "secret", "generic", "s", "--from-literal=password=hunter2").equals(t, "secret/s created")
	k.wantField("secret s", "{.type} {.data.password}", "Opaque aHVudGVyMg==")
	k.okIn("apiVersion: v1\nkind: Secret\nmetadata:\n  name: strings\nstringData:\n  token: abc\n", "create", "-f", "-").equals(t, "secret/strings created")
	k.wantField("secret strings", "{.type} {.data.token}", "Opaque YWJj")
	k.ok("create", "secret", "generic", "basic", "--type=kubernetes.io/basic-auth", "--from-literal=username=u", "--from-literal=password=p").
		equals(t, "secret/basic created")

	k.ok("create", "deployment", "d", "--image=nginx:1.27", "--replicas=2", "--port=80").equals(t, "deployment.apps/d created")
	k.wantField("deployment d", "{.spec.replicas} {.spec.selector.matchLabels.app} {.spec.template.metadata.labels.app}", "2 d d")
	k.wantField("deployment d", "{.spec.template.spec.containers[0].ports[0].containerPort} {.spec.template.spec.containers[0].ports[0].protocol}", "80 TCP")
	k.wantField("deployment d", "{.spec.template.spec.containers[0].terminationMessagePath} {.spec.template.spec.schedulerName} {.spec.template.spec.terminationGracePeriodSeconds}",
		"/dev/termination-log default-scheduler 30")

	k.ok("create", "job", "j", "--image=busybox:1.36", "--", "echo", "hi").equals(t, "job.batch/j created")
	k.wantField("job j", "{.spec.template.spec.containers[0].command}", `["echo","hi"]`)
	k.wantField("job j", "{.spec.template.spec.restartPolicy} {.spec.backoffLimit} {.spec.completions} {.spec.parallelism} {.spec.suspend}", "Never 6 1 1 false")
	uid := k.field("job j", "{.metadata.uid}")
	k.wantField("job j", `{.spec.selector.matchLabels.batch\.kubernetes\.io/controller-uid}`, uid)
	k.wantField("job j", `{.spec.template.metadata.labels.batch\.kubernetes\.io/controller-uid} {.spec.template.metadata.labels.job-name}`, uid+" j")
	k.ok("get", "job", "j").matches(t, `^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE$`, `^j\s+Running\s+0/1\s+\S*\s*\S+$`)

	gen := k.okIn("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\ndata: {a: b}\n", "create", "-f", "-")
	gen.matches(t, `^configmap/gen-[a-z0-9]{5} created$`)
	if name := strings.TrimSuffix(strings.TrimSpace(gen.stdout), " created"); strings.HasPrefix(name, "configmap/gen-") {
		k.wantField(name, "{.metadata.generateName} {.data.a}", "gen- b")
	}

	k.ok("create", "serviceaccount", "robot").equals(t, "serviceaccount/robot created")
	k.wantField("serviceaccount robot", "{.metadata.name}", "robot")
	k.ok("create", "service", "clusterip", "svc", "--tcp=80:8080").equals(t, "service/svc created")
	k.wantField("service svc", "{.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.selector.app}", "80 8080 svc")
	k.ok("create", "cronjob", "cj", "--image=busybox:1.36", "--schedule=*/5 * * * *").equals(t, "cronjob.batch/cj created")
	k.wantField("cronjob cj", "{.spec.concurrencyPolicy} {.spec.suspend} {.spec.successfulJobsHistoryLimit} {.spec.failedJobsHistoryLimit}", "Allow false 3 1")
	k.ok("get", "configmap,secret,deployment,job,serviceaccount", "-o", "name").
		has(t, "configmap/c\n", "secret/s\n", "deployment.apps/d\n", "job.batch/j\n", "serviceaccount/robot\n", "serviceaccount/default\n")
}

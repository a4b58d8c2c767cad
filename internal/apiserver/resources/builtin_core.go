package resources

import (
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// coreV1 is the legacy core group, served under /api/v1.
func coreV1() []Resource {
	gv := corev1.SchemeGroupVersion
	return []Resource{
		virtual(gv, "bindings", &corev1.Binding{}, namespaced, VerbsCreateOnly...).done(),
		stored(gv, "componentstatuses", &corev1.ComponentStatus{}, &corev1.ComponentStatusList{}, cluster).
			verbs(VerbsGetList...).short("cs").computed().done(),
		stored(gv, "configmaps", &corev1.ConfigMap{}, &corev1.ConfigMapList{}, namespaced).short("cm").done(),
		// Endpoints is deprecated in favor of EndpointSlices but still served.
		stored(gv, "endpoints", &corev1.Endpoints{}, &corev1.EndpointsList{}, namespaced).short("ep").done(), //nolint:staticcheck // SA1019: served as upstream does

		stored(gv, "events", &corev1.Event{}, &corev1.EventList{}, namespaced).short("ev").done(),
		stored(gv, "limitranges", &corev1.LimitRange{}, &corev1.LimitRangeList{}, namespaced).short("limits").done(),
		stored(gv, "namespaces", &corev1.Namespace{}, &corev1.NamespaceList{}, cluster).
			verbs(VerbsNoCollection...).short("ns").
			sub("finalize", VerbsUpdate...).status().done(),
		stored(gv, "nodes", &corev1.Node{}, &corev1.NodeList{}, cluster).short("no").
			subKind("proxy", gv.WithKind("NodeProxyOptions"), VerbsProxy...).status().done(),
		stored(gv, "persistentvolumeclaims", &corev1.PersistentVolumeClaim{}, &corev1.PersistentVolumeClaimList{}, namespaced).
			short("pvc").status().done(),
		stored(gv, "persistentvolumes", &corev1.PersistentVolume{}, &corev1.PersistentVolumeList{}, cluster).
			short("pv").status().done(),
		stored(gv, "pods", &corev1.Pod{}, &corev1.PodList{}, namespaced).short("po").categories(CategoryAll).
			subKind("attach", gv.WithKind("PodAttachOptions"), VerbsConnect...).
			subKind("binding", gv.WithKind("Binding"), VerbsCreateOnly...).
			sub("ephemeralcontainers", VerbsStatus...).
			subKind("eviction", policyv1.SchemeGroupVersion.WithKind("Eviction"), VerbsCreateOnly...).
			subKind("exec", gv.WithKind("PodExecOptions"), VerbsConnect...).
			sub("log", VerbsGet...).
			subKind("portforward", gv.WithKind("PodPortForwardOptions"), VerbsConnect...).
			subKind("proxy", gv.WithKind("PodProxyOptions"), VerbsProxy...).
			sub("resize", VerbsStatus...).
			status().done(),
		stored(gv, "podtemplates", &corev1.PodTemplate{}, &corev1.PodTemplateList{}, namespaced).done(),
		stored(gv, "replicationcontrollers", &corev1.ReplicationController{}, &corev1.ReplicationControllerList{}, namespaced).
			short("rc").categories(CategoryAll).scale().status().done(),
		stored(gv, "resourcequotas", &corev1.ResourceQuota{}, &corev1.ResourceQuotaList{}, namespaced).
			short("quota").status().done(),
		stored(gv, "secrets", &corev1.Secret{}, &corev1.SecretList{}, namespaced).done(),
		stored(gv, "serviceaccounts", &corev1.ServiceAccount{}, &corev1.ServiceAccountList{}, namespaced).short("sa").
			subKind("token", authenticationv1.SchemeGroupVersion.WithKind("TokenRequest"), VerbsCreateOnly...).done(),
		stored(gv, "services", &corev1.Service{}, &corev1.ServiceList{}, namespaced).short("svc").categories(CategoryAll).
			subKind("proxy", gv.WithKind("ServiceProxyOptions"), VerbsProxy...).status().done(),
	}
}

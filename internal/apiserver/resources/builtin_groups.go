package resources

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	storagemigrationv1 "k8s.io/api/storagemigration/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

func admissionregistrationV1() []Resource {
	gv := admissionregistrationv1.SchemeGroupVersion
	ext := CategoryAPIExtensions
	return []Resource{
		stored(gv, "mutatingadmissionpolicies", &admissionregistrationv1.MutatingAdmissionPolicy{},
			&admissionregistrationv1.MutatingAdmissionPolicyList{}, cluster).categories(ext).done(),
		stored(gv, "mutatingadmissionpolicybindings", &admissionregistrationv1.MutatingAdmissionPolicyBinding{},
			&admissionregistrationv1.MutatingAdmissionPolicyBindingList{}, cluster).categories(ext).done(),
		stored(gv, "mutatingwebhookconfigurations", &admissionregistrationv1.MutatingWebhookConfiguration{},
			&admissionregistrationv1.MutatingWebhookConfigurationList{}, cluster).categories(ext).done(),
		stored(gv, "validatingadmissionpolicies", &admissionregistrationv1.ValidatingAdmissionPolicy{},
			&admissionregistrationv1.ValidatingAdmissionPolicyList{}, cluster).categories(ext).status().done(),
		stored(gv, "validatingadmissionpolicybindings", &admissionregistrationv1.ValidatingAdmissionPolicyBinding{},
			&admissionregistrationv1.ValidatingAdmissionPolicyBindingList{}, cluster).categories(ext).done(),
		stored(gv, "validatingwebhookconfigurations", &admissionregistrationv1.ValidatingWebhookConfiguration{},
			&admissionregistrationv1.ValidatingWebhookConfigurationList{}, cluster).categories(ext).done(),
	}
}

func apiextensionsV1() []Resource {
	gv := apiextensionsv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "customresourcedefinitions", &apiextensionsv1.CustomResourceDefinition{},
			&apiextensionsv1.CustomResourceDefinitionList{}, cluster).
			short("crd", "crds").categories(CategoryAPIExtensions).status().done(),
	}
}

func apiregistrationV1() []Resource {
	gv := apiregistrationv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "apiservices", &apiregistrationv1.APIService{}, &apiregistrationv1.APIServiceList{}, cluster).
			categories(CategoryAPIExtensions).status().done(),
	}
}

func appsV1() []Resource {
	gv := appsv1.SchemeGroupVersion
	all := CategoryAll
	return []Resource{
		stored(gv, "controllerrevisions", &appsv1.ControllerRevision{}, &appsv1.ControllerRevisionList{}, namespaced).done(),
		stored(gv, "daemonsets", &appsv1.DaemonSet{}, &appsv1.DaemonSetList{}, namespaced).
			short("ds").categories(all).status().done(),
		stored(gv, "deployments", &appsv1.Deployment{}, &appsv1.DeploymentList{}, namespaced).
			short("deploy").categories(all).scale().status().done(),
		stored(gv, "replicasets", &appsv1.ReplicaSet{}, &appsv1.ReplicaSetList{}, namespaced).
			short("rs").categories(all).scale().status().done(),
		stored(gv, "statefulsets", &appsv1.StatefulSet{}, &appsv1.StatefulSetList{}, namespaced).
			short("sts").categories(all).scale().status().done(),
	}
}

func authenticationV1() []Resource {
	gv := authenticationv1.SchemeGroupVersion
	return []Resource{
		virtual(gv, "selfsubjectreviews", &authenticationv1.SelfSubjectReview{}, cluster, VerbsCreateOnly...).done(),
		virtual(gv, "tokenreviews", &authenticationv1.TokenReview{}, cluster, VerbsCreateOnly...).done(),
	}
}

func authorizationV1() []Resource {
	gv := authorizationv1.SchemeGroupVersion
	return []Resource{
		virtual(gv, "localsubjectaccessreviews", &authorizationv1.LocalSubjectAccessReview{}, namespaced, VerbsCreateOnly...).done(),
		virtual(gv, "selfsubjectaccessreviews", &authorizationv1.SelfSubjectAccessReview{}, cluster, VerbsCreateOnly...).done(),
		virtual(gv, "selfsubjectrulesreviews", &authorizationv1.SelfSubjectRulesReview{}, cluster, VerbsCreateOnly...).done(),
		virtual(gv, "subjectaccessreviews", &authorizationv1.SubjectAccessReview{}, cluster, VerbsCreateOnly...).done(),
	}
}

// hpaStorage is the version both autoscaling versions store
// horizontalpodautoscalers as.
var hpaStorage = autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler")

func autoscalingV2() []Resource {
	gv := autoscalingv2.SchemeGroupVersion
	return []Resource{
		stored(gv, "horizontalpodautoscalers", &autoscalingv2.HorizontalPodAutoscaler{},
			&autoscalingv2.HorizontalPodAutoscalerList{}, namespaced).
			short("hpa").categories(CategoryAll).status().storedAs(hpaStorage).done(),
	}
}

// autoscalingV1 is the older autoscaling version, still served for
// horizontalpodautoscalers (and for the Scale kind of scale subresources).
func autoscalingV1() []Resource {
	gv := autoscalingv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "horizontalpodautoscalers", &autoscalingv1.HorizontalPodAutoscaler{},
			&autoscalingv1.HorizontalPodAutoscalerList{}, namespaced).
			short("hpa").categories(CategoryAll).status().storedAs(hpaStorage).done(),
	}
}

func batchV1() []Resource {
	gv := batchv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "cronjobs", &batchv1.CronJob{}, &batchv1.CronJobList{}, namespaced).
			short("cj").categories(CategoryAll).status().done(),
		stored(gv, "jobs", &batchv1.Job{}, &batchv1.JobList{}, namespaced).
			categories(CategoryAll).status().done(),
	}
}

func certificatesV1() []Resource {
	gv := certificatesv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "certificatesigningrequests", &certificatesv1.CertificateSigningRequest{},
			&certificatesv1.CertificateSigningRequestList{}, cluster).
			short("csr").sub("approval", VerbsStatus...).status().done(),
		stored(gv, "clustertrustbundles", &certificatesv1.ClusterTrustBundle{},
			&certificatesv1.ClusterTrustBundleList{}, cluster).done(),
		stored(gv, "podcertificaterequests", &certificatesv1.PodCertificateRequest{},
			&certificatesv1.PodCertificateRequestList{}, namespaced).status().done(),
	}
}

func coordinationV1() []Resource {
	gv := coordinationv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "leases", &coordinationv1.Lease{}, &coordinationv1.LeaseList{}, namespaced).done(),
	}
}

func discoveryV1() []Resource {
	gv := discoveryv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "endpointslices", &discoveryv1.EndpointSlice{}, &discoveryv1.EndpointSliceList{}, namespaced).done(),
	}
}

// eventsV1 serves the objects of the core group's events in the
// events.k8s.io shape.
func eventsV1() []Resource {
	gv := eventsv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "events", &eventsv1.Event{}, &eventsv1.EventList{}, namespaced).
			short("ev").storedAs(corev1.SchemeGroupVersion.WithKind("Event")).done(),
	}
}

func flowcontrolV1() []Resource {
	gv := flowcontrolv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "flowschemas", &flowcontrolv1.FlowSchema{}, &flowcontrolv1.FlowSchemaList{}, cluster).status().done(),
		stored(gv, "prioritylevelconfigurations", &flowcontrolv1.PriorityLevelConfiguration{},
			&flowcontrolv1.PriorityLevelConfigurationList{}, cluster).status().done(),
	}
}

func networkingV1() []Resource {
	gv := networkingv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "ingressclasses", &networkingv1.IngressClass{}, &networkingv1.IngressClassList{}, cluster).done(),
		stored(gv, "ingresses", &networkingv1.Ingress{}, &networkingv1.IngressList{}, namespaced).
			short("ing").status().done(),
		stored(gv, "ipaddresses", &networkingv1.IPAddress{}, &networkingv1.IPAddressList{}, cluster).short("ip").done(),
		stored(gv, "networkpolicies", &networkingv1.NetworkPolicy{}, &networkingv1.NetworkPolicyList{}, namespaced).
			short("netpol").done(),
		stored(gv, "servicecidrs", &networkingv1.ServiceCIDR{}, &networkingv1.ServiceCIDRList{}, cluster).status().done(),
	}
}

func nodeV1() []Resource {
	gv := nodev1.SchemeGroupVersion
	return []Resource{
		stored(gv, "runtimeclasses", &nodev1.RuntimeClass{}, &nodev1.RuntimeClassList{}, cluster).done(),
	}
}

func policyV1() []Resource {
	gv := policyv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "poddisruptionbudgets", &policyv1.PodDisruptionBudget{}, &policyv1.PodDisruptionBudgetList{}, namespaced).
			short("pdb").status().done(),
	}
}

func rbacV1() []Resource {
	gv := rbacv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "clusterrolebindings", &rbacv1.ClusterRoleBinding{}, &rbacv1.ClusterRoleBindingList{}, cluster).done(),
		stored(gv, "clusterroles", &rbacv1.ClusterRole{}, &rbacv1.ClusterRoleList{}, cluster).done(),
		stored(gv, "rolebindings", &rbacv1.RoleBinding{}, &rbacv1.RoleBindingList{}, namespaced).done(),
		stored(gv, "roles", &rbacv1.Role{}, &rbacv1.RoleList{}, namespaced).done(),
	}
}

func resourceV1() []Resource {
	gv := resourcev1.SchemeGroupVersion
	return []Resource{
		stored(gv, "deviceclasses", &resourcev1.DeviceClass{}, &resourcev1.DeviceClassList{}, cluster).done(),
		stored(gv, "devicetaintrules", &resourcev1.DeviceTaintRule{}, &resourcev1.DeviceTaintRuleList{}, cluster).
			status().done(),
		stored(gv, "resourceclaims", &resourcev1.ResourceClaim{}, &resourcev1.ResourceClaimList{}, namespaced).
			status().done(),
		stored(gv, "resourceclaimtemplates", &resourcev1.ResourceClaimTemplate{},
			&resourcev1.ResourceClaimTemplateList{}, namespaced).done(),
		stored(gv, "resourceslices", &resourcev1.ResourceSlice{}, &resourcev1.ResourceSliceList{}, cluster).done(),
	}
}

func schedulingV1() []Resource {
	gv := schedulingv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "priorityclasses", &schedulingv1.PriorityClass{}, &schedulingv1.PriorityClassList{}, cluster).
			short("pc").done(),
	}
}

func storageV1() []Resource {
	gv := storagev1.SchemeGroupVersion
	return []Resource{
		stored(gv, "csidrivers", &storagev1.CSIDriver{}, &storagev1.CSIDriverList{}, cluster).done(),
		stored(gv, "csinodes", &storagev1.CSINode{}, &storagev1.CSINodeList{}, cluster).status().done(),
		stored(gv, "csistoragecapacities", &storagev1.CSIStorageCapacity{}, &storagev1.CSIStorageCapacityList{}, namespaced).done(),
		stored(gv, "storageclasses", &storagev1.StorageClass{}, &storagev1.StorageClassList{}, cluster).short("sc").done(),
		stored(gv, "volumeattachments", &storagev1.VolumeAttachment{}, &storagev1.VolumeAttachmentList{}, cluster).
			status().done(),
		stored(gv, "volumeattributesclasses", &storagev1.VolumeAttributesClass{},
			&storagev1.VolumeAttributesClassList{}, cluster).short("vac").done(),
	}
}

func storagemigrationV1() []Resource {
	gv := storagemigrationv1.SchemeGroupVersion
	return []Resource{
		stored(gv, "storageversionmigrations", &storagemigrationv1.StorageVersionMigration{},
			&storagemigrationv1.StorageVersionMigrationList{}, cluster).status().done(),
	}
}

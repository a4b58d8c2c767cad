package openapi

// typeDescriptions describe, by definition name, the types that have no
// generated SwaggerDoc method: the scalar types of apimachinery and the
// top-level kinds of the groups whose Go types carry no documentation.
var typeDescriptions = map[string]string{
	"io.k8s.apimachinery.pkg.api.resource.Quantity": "An amount written as a string holding a fixed-point decimal " +
		"number with an optional suffix: a binary multiple (Ki, Mi, Gi, Ti, Pi, Ei), a decimal multiple " +
		"(n, u, m, k, M, G, T, P, E) or a decimal exponent (1e3). For example 100m CPU is a tenth of a core " +
		"and 128Mi of memory is 128 × 2^20 bytes.",
	"io.k8s.apimachinery.pkg.util.intstr.IntOrString": "A value that is either a 32-bit integer or a string, written " +
		"in JSON as the bare number or string; for example a port given by number or by name, or an amount " +
		"given as a count or a percentage.",
	"io.k8s.apimachinery.pkg.apis.meta.v1.Time": "A point in time, written as an RFC 3339 string in UTC with " +
		"second precision, for example 2006-01-02T15:04:05Z.",
	"io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "A point in time, written as an RFC 3339 string in UTC with " +
		"microsecond precision, for example 2006-01-02T15:04:05.000000Z.",
	"io.k8s.apimachinery.pkg.apis.meta.v1.Duration": "A length of time written as a Go duration string, such as " +
		"300ms, 1.5h or 2h45m.",
	"io.k8s.apimachinery.pkg.runtime.RawExtension": "An embedded object of any kind, written as its own JSON " +
		"document; the apiVersion and kind it carries say what it is.",
	"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition": "CustomResourceDefinition " +
		"adds a resource to the API: its group, names, scope and the versions it is served and stored in, " +
		"each with the OpenAPI schema its objects are validated against.",
	"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionList": "A list of " +
		"CustomResourceDefinitions.",
	"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON": "Any JSON value.",
	"io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService": "APIService tells the API server which server " +
		"serves a group-version: the local server, or a Service to which requests are proxied.",
	"io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceList": "A list of APIServices.",
}

// fieldDescriptions describe, by definition name and json field name, the
// fields of types without a SwaggerDoc method that kubectl explain users
// reach first.
var fieldDescriptions = map[string]map[string]string{
	"io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent": {
		"type": "The kind of change: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.",
		"object": "The object after the change (for DELETED, its last state); for ERROR, a Status that says what " +
			"went wrong; for BOOKMARK, an object of the watched kind with only its resourceVersion set.",
	},
	"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition": {
		"metadata": "Standard object metadata. The name must be <plural>.<group>.",
		"spec":     "The resource the definition adds to the API.",
		"status":   "What the API server made of the definition: its conditions, the names it accepted and the versions objects have been stored in.",
	},
	"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionList": {
		"metadata": "Standard list metadata.",
		"items":    "The CustomResourceDefinitions.",
	},
	"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec": {
		"group":    "The API group of the resource, such as stable.example.com; the REST path is /apis/<group>/<version>.",
		"names":    "The names of the resource: plural, singular, kind, listKind, short names and categories.",
		"scope":    "Namespaced or Cluster: whether objects live in namespaces.",
		"versions": "The versions the resource is served in. Exactly one is the storage version.",
		"conversion": "How objects are converted between versions: None changes only the apiVersion, Webhook calls " +
			"a conversion webhook.",
		"preserveUnknownFields": "Deprecated: keep fields the schema does not describe. Must be false; use " +
			"x-kubernetes-preserve-unknown-fields in the schema instead.",
	},
	"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion": {
		"name":                     "The version name, such as v1 or v2beta1; served at /apis/<group>/<name>.",
		"served":                   "Whether the version is served by the REST API.",
		"storage":                  "Whether objects are stored in this version. Exactly one version has storage set.",
		"deprecated":               "Whether the version is deprecated; requests to it get a warning.",
		"deprecationWarning":       "The warning returned to requests for a deprecated version, instead of the default one.",
		"schema":                   "The OpenAPI v3 schema objects of this version are validated and pruned against.",
		"subresources":             "The status and scale subresources the version serves.",
		"additionalPrinterColumns": "Extra columns kubectl get shows for the version, each from a JSONPath into the object.",
		"selectableFields":         "Fields, by JSONPath, that field selectors may use for the version.",
	},
	"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionNames": {
		"plural":     "The plural resource name used in URLs, lower case, such as crontabs.",
		"singular":   "The singular name, lower case, such as crontab. Defaults to the lower-cased kind.",
		"shortNames": "Short names kubectl accepts for the resource, such as ct.",
		"kind":       "The kind of the objects, in CamelCase, such as CronTab.",
		"listKind":   "The kind of lists of the objects. Defaults to <kind>List.",
		"categories": "Groups the resource belongs to, such as all, for kubectl get <category>.",
	},
	"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus": {
		"conditions":         "The state of the definition: Established, NamesAccepted, Terminating and others.",
		"acceptedNames":      "The names the API server serves the resource under; they may differ from the requested ones on conflict.",
		"storedVersions":     "Every version objects have ever been stored in, so that they can be migrated before a version is removed.",
		"observedGeneration": "The metadata.generation of the definition the status describes.",
	},
	"io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService": {
		"metadata": "Standard object metadata. The name must be <version>.<group>.",
		"spec":     "Which server serves the group-version and how to reach it.",
		"status":   "Whether the group-version is available.",
	},
	"io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceList": {
		"metadata": "Standard list metadata.",
		"items":    "The APIServices.",
	},
	"io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceSpec": {
		"service":               "The Service requests are proxied to; unset means the API server itself serves the group-version.",
		"group":                 "The API group served.",
		"version":               "The API version served.",
		"insecureSkipTLSVerify": "Do not verify the serving certificate of the Service. Discouraged; set caBundle instead.",
		"caBundle":              "PEM-encoded CA certificates that verify the serving certificate of the Service.",
		"groupPriorityMinimum": "The priority of the group among groups, higher first; the highest of its " +
			"versions' values counts. Sets the order of discovery and of kubectl's preferred versions.",
		"versionPriority": "The priority of the version within its group, higher first.",
	},
	"io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus": {
		"conditions": "The state of the APIService; Available says whether requests can be served.",
	},
}

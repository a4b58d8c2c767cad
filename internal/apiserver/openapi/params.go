package openapi

// param is a query or path parameter of the API's operations.
type param struct {
	name string
	in   string // "query" or "path"
	// typ is the OpenAPI type: string, integer or boolean.
	typ  string
	desc string
}

// params are the parameters operations share, by name.
var params = map[string]param{
	"namespace": {"namespace", "path", "string", "Namespace of the objects: the scope of the names and of access control."},
	"pretty":    {"pretty", "query", "string", "If 'true', the response is indented for people to read."},

	"allowWatchBookmarks": {"allowWatchBookmarks", "query", "boolean", "With watch: ask for BOOKMARK events, which carry " +
		"only a resourceVersion and let a client resume from a recent point. The server may send them or not."},
	"continue": {"continue", "query", "string", "The continue token of the previous page of a paginated list, to " +
		"fetch the next page. Tokens expire; after a 410 Gone, start the list again."},
	"fieldSelector": {"fieldSelector", "query", "string", "Restricts the objects returned to those whose fields " +
		"match, e.g. spec.nodeName=node-1. Each resource supports its own set of fields. Defaults to everything."},
	"labelSelector": {"labelSelector", "query", "string", "Restricts the objects returned to those whose labels " +
		"match, e.g. app=web,tier!=cache. Defaults to everything."},
	"limit": {"limit", "query", "integer", "The most objects to return in one page; when more remain, the list " +
		"metadata carries a continue token. The server may return fewer."},
	"resourceVersion": {"resourceVersion", "query", "string", "Which state of the store to read: unset for the " +
		"latest, \"0\" for any state the server has cached, else a version the result must be at least as new as " +
		"(or equal to, with resourceVersionMatch=Exact). With watch: the version to start after."},
	"resourceVersionMatch": {"resourceVersionMatch", "query", "string", "How resourceVersion applies to a list: " +
		"NotOlderThan or Exact. Needs resourceVersion."},
	"sendInitialEvents": {"sendInitialEvents", "query", "boolean", "With watch: begin the stream with an ADDED " +
		"event for every existing object, then a BOOKMARK annotated k8s.io/initial-events-end. Needs " +
		"resourceVersionMatch=NotOlderThan and allowWatchBookmarks."},
	"timeoutSeconds": {"timeoutSeconds", "query", "integer", "How long the list or watch call may last, in " +
		"seconds, whether or not there is activity."},
	"watch": {"watch", "query", "boolean", "Stream ADDED, MODIFIED and DELETED events instead of returning a list."},

	"dryRun": {"dryRun", "query", "string", "\"All\" runs every stage of the request but does not store the " +
		"result. Any other value is an error."},
	"fieldManager": {"fieldManager", "query", "string", "The name of the actor making the change, recorded in " +
		"managedFields. Required for apply patches; at most 128 printable characters."},
	"fieldValidation": {"fieldValidation", "query", "string", "What to do with unknown or duplicate fields in the " +
		"request body: Ignore drops them, Warn (the default) drops them and returns a Warning header for each, " +
		"Strict fails the request."},
	"force": {"force", "query", "boolean", "For apply patches: take ownership of fields other managers own " +
		"instead of failing with a conflict. Must be unset for other patch types."},

	"gracePeriodSeconds": {"gracePeriodSeconds", "query", "integer", "Seconds to wait before the object is " +
		"deleted; 0 deletes at once. Unset uses the object's own default."},
	"ignoreStoreReadErrorWithClusterBreakingPotential": {"ignoreStoreReadErrorWithClusterBreakingPotential", "query",
		"boolean", "Delete an object that cannot be read from storage (e.g. cannot be decoded), skipping " +
			"finalizers and admission. Dangerous: only for repairing a broken store."},
	"orphanDependents": {"orphanDependents", "query", "boolean", "Deprecated: use propagationPolicy. True " +
		"orphans the dependents, false deletes them in the background."},
	"propagationPolicy": {"propagationPolicy", "query", "string", "What happens to the object's dependents: " +
		"Orphan leaves them, Background deletes them after the object, Foreground deletes them before it."},
}

// Query parameter sets by operation.
var (
	listQuery = []string{"allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit",
		"resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch"}
	writeQuery  = []string{"dryRun", "fieldManager", "fieldValidation"}
	patchQuery  = []string{"dryRun", "fieldManager", "fieldValidation", "force"}
	deleteQuery = []string{"dryRun", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential",
		"orphanDependents", "propagationPolicy"}
	deleteCollectionQuery = []string{"continue", "dryRun", "fieldSelector", "gracePeriodSeconds",
		"ignoreStoreReadErrorWithClusterBreakingPotential", "labelSelector", "limit", "orphanDependents",
		"propagationPolicy", "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds"}
)

// Media types of request and response bodies.
var (
	objectMedia = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
	// listMedia is for list and watch responses.
	listMedia = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf",
		"application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch"}
	anyMedia   = []string{"*/*"}
	patchMedia = []string{"application/json-patch+json", "application/merge-patch+json",
		"application/strategic-merge-patch+json", "application/apply-patch+yaml"}
)

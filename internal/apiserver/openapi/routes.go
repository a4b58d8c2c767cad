package openapi

import (
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// route is one URL path of the API and its operations, the form both
// documents are written from.
type route struct {
	path string
	gv   schema.GroupVersion
	// kind names the object of the {name} parameter; "" when the path has
	// none.
	kind       string
	namespaced bool
	ops        []operation
}

// operation is one HTTP method of a route.
type operation struct {
	method string // get, put, post, patch or delete
	// action is the x-kubernetes-action: list, watch, watchlist, get,
	// post, put, patch, delete or deletecollection.
	action     string
	id         string
	desc       string
	gvk        schema.GroupVersionKind
	query      []string
	body       string // definition name of the request body; "" for none
	bodyNeeded bool
	consumes   []string
	produces   []string
	responses  []response
	deprecated bool
}

// response is one status code an operation answers with.
type response struct {
	code int
	def  string // definition name of the body; "" for none
}

// Definition names of the meta types the operations use.
var (
	deleteOptionsDef = definitionName(deleteOptionsType)
	statusDef        = definitionName(statusType)
	watchEventDef    = definitionName(watchEventType)
	patchDef         = definitionName(patchType)
)

// routesOf returns the routes of k and of its subresources subs. typeDef,
// listDef and subDefs (one per subresource) are definition names.
func routesOf(k *Kind, subs []Subresource, typeDef, listDef string, subDefs []string) []route {
	gv := k.GVK.GroupVersion()
	kind := k.GVK.Kind
	prefix := "/" + gvPath(gv)
	scope, scopeID := prefix, ""
	if k.Namespaced {
		scope, scopeID = prefix+"/namespaces/{namespace}", "Namespaced"
	}
	id := func(verb, suffix string) string { return verb + opPrefix(gv) + scopeID + kind + suffix }
	can := func(verb string) bool { return slices.Contains(k.Verbs, verb) }

	collection := route{path: scope + "/" + k.Resource, gv: gv, namespaced: k.Namespaced}
	item := route{path: collection.path + "/{name}", gv: gv, kind: kind, namespaced: k.Namespaced}
	var routes []route

	if can("list") && listDef != "" {
		collection.ops = append(collection.ops, operation{
			method: "get", action: "list", id: id("list", ""), desc: "List or watch objects of kind " + kind + ".",
			gvk: k.GVK, query: listQuery, produces: listMedia, responses: ok(listDef),
		})
		if k.Namespaced {
			routes = append(routes, route{path: prefix + "/" + k.Resource, gv: gv, ops: []operation{{
				method: "get", action: "list", id: "list" + opPrefix(gv) + kind + "ForAllNamespaces",
				desc: "List or watch objects of kind " + kind + " in all namespaces.",
				gvk:  k.GVK, query: listQuery, produces: listMedia, responses: ok(listDef),
			}}})
		}
	}
	if can("create") {
		collection.ops = append(collection.ops, operation{
			method: "post", action: "post", id: id("create", ""), desc: "Create a " + kind + ".",
			gvk: k.GVK, query: writeQuery, body: typeDef, bodyNeeded: true, consumes: anyMedia, produces: objectMedia,
			responses: []response{{200, typeDef}, {201, typeDef}, {202, typeDef}},
		})
	}
	if can("deletecollection") {
		collection.ops = append(collection.ops, operation{
			method: "delete", action: "deletecollection", id: "delete" + opPrefix(gv) + "Collection" + scopeID + kind,
			desc: "Delete a collection of objects of kind " + kind + ".",
			gvk:  k.GVK, query: deleteCollectionQuery, body: deleteOptionsDef, consumes: anyMedia, produces: objectMedia,
			responses: ok(statusDef),
		})
	}
	if can("get") {
		item.ops = append(item.ops, operation{
			method: "get", action: "get", id: id("read", ""), desc: "Read the specified " + kind + ".",
			gvk: k.GVK, produces: objectMedia, responses: ok(typeDef),
		})
	}
	if can("update") {
		item.ops = append(item.ops, operation{
			method: "put", action: "put", id: id("replace", ""), desc: "Replace the specified " + kind + ".",
			gvk: k.GVK, query: writeQuery, body: typeDef, bodyNeeded: true, consumes: anyMedia, produces: objectMedia,
			responses: []response{{200, typeDef}, {201, typeDef}},
		})
	}
	if can("patch") {
		item.ops = append(item.ops, operation{
			method: "patch", action: "patch", id: id("patch", ""), desc: "Partially update the specified " + kind + ".",
			gvk: k.GVK, query: patchQuery, body: patchDef, bodyNeeded: true, consumes: patchMedia, produces: objectMedia,
			responses: []response{{200, typeDef}, {201, typeDef}},
		})
	}
	if can("delete") {
		item.ops = append(item.ops, operation{
			method: "delete", action: "delete", id: id("delete", ""), desc: "Delete a " + kind + ".",
			gvk: k.GVK, query: deleteQuery, body: deleteOptionsDef, consumes: anyMedia, produces: objectMedia,
			responses: []response{{200, statusDef}, {202, statusDef}},
		})
	}
	routes = append(routes, collection, item)

	for i, sub := range subs {
		routes = append(routes, subresourceRoute(k, &sub, subDefs[i], item.path, id))
	}

	if can("watch") {
		watchScope := prefix + "/watch/" + k.Resource
		if k.Namespaced {
			watchScope = prefix + "/watch/namespaces/{namespace}/" + k.Resource
		}
		watch := func(path, action, id, desc string, named, namespaced bool) route {
			r := route{path: path, gv: gv, namespaced: namespaced}
			if named {
				r.kind = kind
			}
			r.ops = []operation{{
				method: "get", action: action, id: id, desc: desc, gvk: k.GVK, query: listQuery,
				produces: listMedia, responses: ok(watchEventDef), deprecated: true,
			}}
			return r
		}
		const deprecated = " Deprecated: use the watch parameter of the list operation."
		routes = append(routes,
			watch(watchScope+"/{name}", "watch", id("watch", ""),
				"Watch changes to an object of kind "+kind+"."+deprecated, true, k.Namespaced),
			watch(watchScope, "watchlist", id("watch", "List"),
				"Watch changes to a list of objects of kind "+kind+"."+deprecated, false, k.Namespaced))
		if k.Namespaced {
			routes = append(routes, watch(prefix+"/watch/"+k.Resource, "watchlist",
				"watch"+opPrefix(gv)+kind+"ListForAllNamespaces",
				"Watch changes to a list of objects of kind "+kind+" in all namespaces."+deprecated, false, false))
		}
	}

	// Drop the paths that ended up without operations (a create-only
	// resource has no item path).
	return slices.DeleteFunc(routes, func(r route) bool { return len(r.ops) == 0 })
}

// subresourceRoute returns the route of one subresource of k, under the
// object path item.
func subresourceRoute(k *Kind, sub *Subresource, def, item string, id func(verb, suffix string) string) route {
	gvk := sub.GVK
	if gvk.Empty() {
		gvk = k.GVK
	}
	suffix := upperFirst(sub.Name)
	r := route{path: item + "/" + sub.Name, gv: k.GVK.GroupVersion(), kind: k.GVK.Kind, namespaced: k.Namespaced}
	what := sub.Name + " of the specified " + k.GVK.Kind + "."
	for _, verb := range sub.Verbs {
		switch verb {
		case "get":
			r.ops = append(r.ops, operation{
				method: "get", action: "get", id: id("read", suffix), desc: "Read " + what,
				gvk: gvk, produces: objectMedia, responses: ok(def),
			})
		case "update":
			r.ops = append(r.ops, operation{
				method: "put", action: "put", id: id("replace", suffix), desc: "Replace " + what,
				gvk: gvk, query: writeQuery, body: def, bodyNeeded: true, consumes: anyMedia, produces: objectMedia,
				responses: []response{{200, def}, {201, def}},
			})
		case "patch":
			r.ops = append(r.ops, operation{
				method: "patch", action: "patch", id: id("patch", suffix), desc: "Partially update " + what,
				gvk: gvk, query: patchQuery, body: patchDef, bodyNeeded: true, consumes: patchMedia, produces: objectMedia,
				responses: []response{{200, def}, {201, def}},
			})
		case "create":
			r.ops = append(r.ops, operation{
				method: "post", action: "post", id: id("create", suffix), desc: "Create " + what,
				gvk: gvk, query: writeQuery, body: def, bodyNeeded: true, consumes: anyMedia, produces: objectMedia,
				responses: []response{{200, def}, {201, def}, {202, def}},
			})
		}
	}
	return r
}

func ok(def string) []response {
	return []response{{200, def}}
}

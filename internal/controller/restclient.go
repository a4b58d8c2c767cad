package controller

import "k8s.io/client-go/rest"

// RESTClientOf returns the REST client behind a typed client group, or nil
// for fake clientsets, which have none. Hot writes post through it
// without the typed client's per-request conversion of options to query
// parameters by reflection, and without decoding responses they drop;
// given nil, they use the typed client.
func RESTClientOf(c rest.Interface) *rest.RESTClient {
	rc, _ := c.(*rest.RESTClient)
	return rc
}

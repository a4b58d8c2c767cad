// Package apiserver assembles the HTTP surface of tug server: the filter
// chain, health and version endpoints, discovery, OpenAPI, the resource
// endpoints and the generic registry stores over storage.
package apiserver

// Package fieldpath resolves the downward API: the pod fields and container
// resources that env vars (fieldRef, resourceFieldRef) and downwardAPI
// volume files expose to a container.
package fieldpath

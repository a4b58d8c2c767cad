// Package volumes makes a pod's volumes exist on the node (empty dirs,
// host paths, API data written as files, persistent volumes) and turns a
// container's volume mounts into CRI mounts.
//
// A pod's volumes live under <RootDir>/<podUID>/volumes/<plugin>/<name>,
// with plugin names as Kubernetes spells them (kubernetes.io~empty-dir,
// kubernetes.io~configmap, ...), so that operators find them where they
// expect. Volumes of API data (configMap, secret, downwardAPI, projected)
// are rewritten in place on every sync with the atomic layout that
// Kubernetes clients rely on: the files live in a timestamped hidden
// directory, `..data` points at it, and each visible name is a symlink
// through `..data`, so one rename publishes a whole new set of files.
package volumes

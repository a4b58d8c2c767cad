package deployment

import (
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
)

// Annotations the controller keeps on ReplicaSets (and the revision on the
// Deployment too); kubectl rollout history and undo read them.
const (
	revisionAnnotation        = "deployment.kubernetes.io/revision"
	revisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	desiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	maxReplicasAnnotation     = "deployment.kubernetes.io/max-replicas"
	lastAppliedAnnotation     = "kubectl.kubernetes.io/last-applied-configuration"
	rollbackToAnnotation      = "deprecated.deployment.rollback.to"
)

// notCopied are Deployment annotations that do not describe the pod
// template's revision and so are not copied to its ReplicaSets.
var notCopied = []string{
	lastAppliedAnnotation, revisionAnnotation, revisionHistoryAnnotation,
	desiredReplicasAnnotation, maxReplicasAnnotation, rollbackToAnnotation,
}

// revision is the revision annotation of an object, 0 when absent or
// malformed.
func revision(annotations map[string]string) int64 {
	v, err := strconv.ParseInt(annotations[revisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// maxRevision is the highest revision among rss.
func maxRevision(rss []*appsv1.ReplicaSet) int64 {
	var m int64
	for _, rs := range rss {
		m = max(m, revision(rs.Annotations))
	}
	return m
}

// setNewRSAnnotations copies the Deployment's annotations to its new
// ReplicaSet and stamps the revision; a ReplicaSet brought back by a
// rollback remembers its earlier revisions in revision-history. It reports
// whether anything changed.
func setNewRSAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet, newRevision int64) bool {
	changed := false
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	for k, v := range d.Annotations {
		if slices.Contains(notCopied, k) || rs.Annotations[k] == v {
			continue
		}
		rs.Annotations[k] = v
		changed = true
	}
	old := revision(rs.Annotations)
	if old >= newRevision {
		return changed
	}
	if oldValue, ok := rs.Annotations[revisionAnnotation]; ok && old > 0 {
		history := rs.Annotations[revisionHistoryAnnotation]
		if history == "" {
			history = oldValue
		} else {
			history = strings.Join([]string{history, oldValue}, ",")
		}
		rs.Annotations[revisionHistoryAnnotation] = history
	}
	rs.Annotations[revisionAnnotation] = strconv.FormatInt(newRevision, 10)
	return true
}

// int32Annotation reads an annotation holding a replica count.
func int32Annotation(rs *appsv1.ReplicaSet, key string) (int32, bool) {
	v, err := strconv.ParseInt(rs.Annotations[key], 10, 32)
	return int32(v), err == nil
}

// setReplicasAnnotations records the Deployment size rs was scaled for,
// which proportional scaling reads back; it reports whether they changed.
func setReplicasAnnotations(rs *appsv1.ReplicaSet, desiredReplicas, maxReplicas int32) bool {
	d, ok1 := int32Annotation(rs, desiredReplicasAnnotation)
	m, ok2 := int32Annotation(rs, maxReplicasAnnotation)
	if ok1 && ok2 && d == desiredReplicas && m == maxReplicas {
		return false
	}
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	rs.Annotations[desiredReplicasAnnotation] = strconv.FormatInt(int64(desiredReplicas), 10)
	rs.Annotations[maxReplicasAnnotation] = strconv.FormatInt(int64(maxReplicas), 10)
	return true
}

package job

import (
	"maps"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// completionIndexEnv is the variable through which an indexed pod's
// containers learn their index (read from the pod's annotation).
const completionIndexEnv = "JOB_COMPLETION_INDEX"

// maxGenerateNameLength leaves room for the five random characters the
// API server appends, within the 63 characters of a label value.
const maxGenerateNameLength = 58

// newPod builds a pod from the job's template. For an indexed job, index
// is the pod's completion index and failures the index's failures so far;
// pass noIndex otherwise.
func newPod(job *batchv1.Job, index, failures int) *corev1.Pod {
	tmpl := job.Spec.Template.DeepCopy()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    generateName(job.Name, index),
			Namespace:       job.Namespace,
			Labels:          maps.Clone(tmpl.Labels),
			Annotations:     maps.Clone(tmpl.Annotations),
			Finalizers:      append(tmpl.Finalizers, batchv1.JobTrackingFinalizer),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(job, batchv1.SchemeGroupVersion.WithKind("Job"))},
		},
		Spec: tmpl.Spec,
	}
	if index == noIndex {
		return pod
	}
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	ix := strconv.Itoa(index)
	pod.Annotations[batchv1.JobCompletionIndexAnnotation] = ix
	pod.Labels[batchv1.JobCompletionIndexAnnotation] = ix
	if job.Spec.BackoffLimitPerIndex != nil {
		pod.Annotations[batchv1.JobIndexFailureCountAnnotation] = strconv.Itoa(failures)
	}
	pod.Spec.Hostname = job.Name + "-" + ix
	addIndexEnv(pod.Spec.InitContainers)
	addIndexEnv(pod.Spec.Containers)
	return pod
}

// generateName is "<job>-" or "<job>-<index>-", the job name shortened if
// the result would not fit.
func generateName(jobName string, index int) string {
	suffix := "-"
	if index != noIndex {
		suffix = "-" + strconv.Itoa(index) + "-"
	}
	if len(jobName)+len(suffix) > maxGenerateNameLength {
		jobName = jobName[:maxGenerateNameLength-len(suffix)]
	}
	return jobName + suffix
}

// addIndexEnv gives each container JOB_COMPLETION_INDEX from the downward
// API, unless it sets the variable itself.
func addIndexEnv(containers []corev1.Container) {
	for i := range containers {
		c := &containers[i]
		defined := false
		for _, e := range c.Env {
			if e.Name == completionIndexEnv {
				defined = true
				break
			}
		}
		if defined {
			continue
		}
		c.Env = append(c.Env, corev1.EnvVar{Name: completionIndexEnv, ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{
				APIVersion: "v1",
				FieldPath:  "metadata.annotations['" + batchv1.JobCompletionIndexAnnotation + "']",
			},
		}})
	}
}

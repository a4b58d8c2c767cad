package ttlafterfinished

import (
	"context"
	"errors"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/tugcluster/tug/internal/controller"
)

func TestSync(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	finished := func(cond batchv1.JobConditionType, ago time.Duration) func(*batchv1.Job) {
		return func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue,
				LastTransitionTime: metav1.NewTime(now.Add(-ago))}}
		}
	}
	tests := []struct {
		name        string
		ttl         *int32
		edit        func(*batchv1.Job)
		apiTTL      *int32 // the API server's TTL when it differs from the cache's
		wantRequeue time.Duration
		wantDelete  bool
	}{
		{name: "running", ttl: ptr.To[int32](0), edit: func(*batchv1.Job) {}},
		{name: "no ttl", edit: finished(batchv1.JobComplete, time.Hour)},
		{name: "not yet", ttl: ptr.To[int32](10), edit: finished(batchv1.JobComplete, 4*time.Second), wantRequeue: 6 * time.Second},
		{name: "complete and due", ttl: ptr.To[int32](10), edit: finished(batchv1.JobComplete, 10*time.Second), wantDelete: true},
		{name: "failed and due", ttl: ptr.To[int32](0), edit: finished(batchv1.JobFailed, 0), wantDelete: true},
		{name: "condition False", ttl: ptr.To[int32](0), edit: func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionFalse}}
		}},
		{name: "completion time without transition time", ttl: ptr.To[int32](60), edit: func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
			j.Status.CompletionTime = ptr.To(metav1.NewTime(now.Add(-time.Minute)))
		}, wantDelete: true},
		{name: "stale cache", ttl: ptr.To[int32](0), apiTTL: ptr.To[int32](100), edit: finished(batchv1.JobComplete, 40*time.Second),
			wantRequeue: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "j", Namespace: "default", UID: "u", ResourceVersion: "7"}}
			job.Spec.TTLSecondsAfterFinished = tt.ttl
			tt.edit(job)
			apiJob := job.DeepCopy()
			if tt.apiTTL != nil {
				apiJob.Spec.TTLSecondsAfterFinished = tt.apiTTL
			}
			client := fake.NewSimpleClientset(apiJob)
			factory := informers.NewSharedInformerFactory(client, 0)
			c, err := New(Config{Client: client, Jobs: factory.Batch().V1().Jobs(), Clock: testingclock.NewFakePassiveClock(now)})
			if err != nil {
				t.Fatal(err)
			}
			if err := factory.Batch().V1().Jobs().Informer().GetIndexer().Add(job); err != nil {
				t.Fatal(err)
			}
			err = c.sync(context.Background(), "default/j")
			var rq controller.Requeue
			switch {
			case errors.As(err, &rq):
				if rq.After != tt.wantRequeue {
					t.Errorf("requeue after %v, want %v", rq.After, tt.wantRequeue)
				}
			case err != nil:
				t.Fatal(err)
			case tt.wantRequeue != 0:
				t.Errorf("no requeue, want %v", tt.wantRequeue)
			}
			var deleted *clienttesting.DeleteActionImpl
			for _, a := range client.Actions() {
				if d, ok := a.(clienttesting.DeleteActionImpl); ok {
					deleted = &d
				}
			}
			if (deleted != nil) != tt.wantDelete {
				t.Fatalf("deleted = %v, want %v", deleted != nil, tt.wantDelete)
			}
			if deleted != nil {
				opts := deleted.DeleteOptions
				if ptr.Deref(opts.PropagationPolicy, "") != metav1.DeletePropagationBackground ||
					opts.Preconditions == nil || ptr.Deref(opts.Preconditions.UID, "") != "u" {
					t.Errorf("delete options = %+v", opts)
				}
			}
		})
	}
}

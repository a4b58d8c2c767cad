package job

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

func TestIndexSetFormat(t *testing.T) {
	tests := []struct {
		add  []int
		want string
	}{
		{nil, ""},
		{[]int{0}, "0"},
		{[]int{1, 3, 4, 5, 7}, "1,3-5,7"},
		{[]int{5, 4, 3, 7, 1}, "1,3-5,7"},
		{[]int{2, 3}, "2,3"},
		{[]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "0-9"},
		{[]int{9, 0, 5, 1, 8, 2, 7, 3, 6, 4}, "0-9"},
		{[]int{3, 3, 3}, "3"},
		{[]int{1, 5, 3, 2, 4}, "1-5"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			var s indexSet
			for _, i := range tt.add {
				s = s.with(i)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := s.total(); got != len(uniq(tt.add)) {
				t.Errorf("total() = %d, want %d", got, len(uniq(tt.add)))
			}
			back, err := parseIndexSet(tt.want, 100)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s, back, cmp.AllowUnexported(indexRange{})); diff != "" {
				t.Errorf("parse(String()) differs (-want +got):\n%s", diff)
			}
		})
	}
}

func uniq(xs []int) map[int]bool {
	m := map[int]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func TestParseIndexSet(t *testing.T) {
	tests := []struct {
		in      string
		limit   int
		want    string
		wantErr bool
	}{
		{in: "1,3-5,7", limit: 10, want: "1,3-5,7"},
		{in: "0-2,3-4", limit: 10, want: "0-4"},
		{in: "1,3-5,7", limit: 5, want: "1,3,4"},
		{in: "8-12", limit: 10, want: "8,9"},
		{in: "1,x,3", limit: 10, want: "1,3", wantErr: true},
		{in: "5-3", limit: 10, want: "", wantErr: true},
		{in: "-1", limit: 10, want: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := parseIndexSet(tt.in, tt.limit)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIndexSetHasAndCount(t *testing.T) {
	s, _ := parseIndexSet("1,3-5,9", 100)
	for i, want := range map[int]bool{0: false, 1: true, 2: false, 3: true, 5: true, 6: false, 9: true, 10: false} {
		if got := s.has(i); got != want {
			t.Errorf("has(%d) = %v, want %v", i, got, want)
		}
	}
	other, _ := parseIndexSet("0-4,9-20", 100)
	if got := s.countIn(other); got != 4 { // 1, 3, 4, 9
		t.Errorf("countIn = %d, want 4", got)
	}
}

func TestBackoffDelay(t *testing.T) {
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0},
		{1, 10 * time.Second},
		{2, 20 * time.Second},
		{3, 40 * time.Second},
		{6, 320 * time.Second},
		{7, 6 * time.Minute},
		{1000, 6 * time.Minute},
	}
	for _, tt := range tests {
		if got := backoffDelay(tt.failures); got != tt.want {
			t.Errorf("backoffDelay(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

func TestBackoffRecord(t *testing.T) {
	s := newBackoffStore()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.record("j", []finishedPod{{at: t0.Add(2 * time.Second)}, {at: t0}})
	r := s.get("j")
	if r.failures != 2 || !r.lastFailure.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("record = %+v", r)
	}
	if got := r.remaining(t0.Add(12 * time.Second)); got != 10*time.Second {
		t.Errorf("remaining = %v, want 10s (20s after the last failure)", got)
	}
	s.record("j", []finishedPod{{at: t0.Add(3 * time.Second), succeeded: true}})
	if r := s.get("j"); r.failures != 0 {
		t.Errorf("a success after the failures must reset the record, got %+v", r)
	}
}

func failedPod(conditions []corev1.PodConditionType, statuses ...corev1.ContainerStatus) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	pod.Status.Phase = corev1.PodFailed
	pod.Status.ContainerStatuses = statuses
	for _, c := range conditions {
		pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue})
	}
	return pod
}

func exited(name string, code int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}
}

func TestMatchFailurePolicy(t *testing.T) {
	exitIn := func(action batchv1.PodFailurePolicyAction, container *string, codes ...int32) batchv1.PodFailurePolicyRule {
		return batchv1.PodFailurePolicyRule{Action: action, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
			ContainerName: container, Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: codes}}
	}
	tests := []struct {
		name        string
		rules       []batchv1.PodFailurePolicyRule
		pod         *corev1.Pod
		wantAction  batchv1.PodFailurePolicyAction
		wantMessage string
	}{
		{
			name:        "exit code in",
			rules:       []batchv1.PodFailurePolicyRule{exitIn(batchv1.PodFailurePolicyActionFailJob, nil, 42)},
			pod:         failedPod(nil, exited("a", 0), exited("main", 42)),
			wantAction:  batchv1.PodFailurePolicyActionFailJob,
			wantMessage: "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0",
		},
		{
			name:  "exit code not in the list",
			rules: []batchv1.PodFailurePolicyRule{exitIn(batchv1.PodFailurePolicyActionFailJob, nil, 42)},
			pod:   failedPod(nil, exited("main", 1)),
		},
		{
			name: "not in",
			rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionCount, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
				Operator: batchv1.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{1, 2}}}},
			pod:         failedPod(nil, exited("main", 3)),
			wantAction:  batchv1.PodFailurePolicyActionCount,
			wantMessage: "Container main for pod ns/p failed with exit code 3 matching Count rule at index 0",
		},
		{
			name: "not in ignores exit code 0",
			rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionCount, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
				Operator: batchv1.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{1}}}},
			pod: failedPod(nil, exited("main", 0), exited("side", 1)),
		},
		{
			name:  "container name restricts",
			rules: []batchv1.PodFailurePolicyRule{exitIn(batchv1.PodFailurePolicyActionFailJob, ptr.To("other"), 42)},
			pod:   failedPod(nil, exited("main", 42)),
		},
		{
			name: "first matching rule wins, unknown actions skipped",
			rules: []batchv1.PodFailurePolicyRule{
				exitIn("Retry", nil, 42),
				exitIn(batchv1.PodFailurePolicyActionIgnore, nil, 42),
				exitIn(batchv1.PodFailurePolicyActionFailJob, nil, 42),
			},
			pod:         failedPod(nil, exited("main", 42)),
			wantAction:  batchv1.PodFailurePolicyActionIgnore,
			wantMessage: "Container main for pod ns/p failed with exit code 42 matching Ignore rule at index 1",
		},
		{
			name: "pod condition",
			rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{
				{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}}},
			pod:         failedPod([]corev1.PodConditionType{corev1.DisruptionTarget}, exited("main", 137)),
			wantAction:  batchv1.PodFailurePolicyActionIgnore,
			wantMessage: "Pod ns/p has condition DisruptionTarget matching Ignore rule at index 0",
		},
		{
			name: "pod condition with another status",
			rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{
				{Type: corev1.DisruptionTarget, Status: corev1.ConditionFalse}}}},
			pod: failedPod([]corev1.PodConditionType{corev1.DisruptionTarget}, exited("main", 137)),
		},
		{
			name:  "init container",
			rules: []batchv1.PodFailurePolicyRule{exitIn(batchv1.PodFailurePolicyActionFailIndex, ptr.To("init"), 5)},
			pod: func() *corev1.Pod {
				p := failedPod(nil)
				p.Status.InitContainerStatuses = []corev1.ContainerStatus{exited("init", 5)}
				return p
			}(),
			wantAction:  batchv1.PodFailurePolicyActionFailIndex,
			wantMessage: "Container init for pod ns/p failed with exit code 5 matching FailIndex rule at index 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := matchFailurePolicy(&batchv1.PodFailurePolicy{Rules: tt.rules}, tt.pod)
			if got.action != tt.wantAction || got.message != tt.wantMessage {
				t.Errorf("got %q %q, want %q %q", got.action, got.message, tt.wantAction, tt.wantMessage)
			}
		})
	}
}

func TestMatchSuccessPolicy(t *testing.T) {
	completed, _ := parseIndexSet("0,2-4", 10)
	tests := []struct {
		name    string
		rules   []batchv1.SuccessPolicyRule
		wantIdx int
		wantOK  bool
	}{
		{"indexes all done", []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("2-3")}}, 0, true},
		{"indexes not all done", []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("0-2")}}, 0, false},
		{"count within indexes", []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("0-2"), SucceededCount: ptr.To[int32](2)}}, 0, true},
		{"count within indexes short", []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("1-2"), SucceededCount: ptr.To[int32](2)}}, 0, false},
		{"count only", []batchv1.SuccessPolicyRule{{SucceededCount: ptr.To[int32](5)}, {SucceededCount: ptr.To[int32](4)}}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, ok := matchSuccessPolicy(&batchv1.SuccessPolicy{Rules: tt.rules}, completed, 10)
			if i != tt.wantIdx || ok != tt.wantOK {
				t.Errorf("got %d %v, want %d %v", i, ok, tt.wantIdx, tt.wantOK)
			}
		})
	}
}

func TestExpectations(t *testing.T) {
	clk := testingclock.NewFakePassiveClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := newExpectations(clk)
	if !e.satisfied("j") {
		t.Fatal("no record must be satisfied")
	}
	e.expect("j", 2, []types.UID{"a"})
	e.creationObserved("j")
	e.deletionObserved("j", "a")
	e.deletionObserved("j", "a") // seen twice (update, then delete)
	if e.satisfied("j") {
		t.Fatal("one creation is still pending")
	}
	clk.SetTime(clk.Now().Add(expectationsTimeout + time.Second))
	if !e.satisfied("j") {
		t.Fatal("expired expectations must be satisfied")
	}
	e.expect("j", 1, nil)
	e.creationObserved("j")
	if !e.satisfied("j") {
		t.Fatal("all observed")
	}
}

func TestGenerateName(t *testing.T) {
	long := "a23456789012345678901234567890123456789012345678901234567890123"[:60]
	tests := []struct {
		job   string
		index int
		want  string
	}{
		{"pi", noIndex, "pi-"},
		{"pi", 7, "pi-7-"},
		{long, 12, long[:54] + "-12-"},
		{long, noIndex, long[:57] + "-"},
	}
	for _, tt := range tests {
		if got := generateName(tt.job, tt.index); got != tt.want || len(got) > maxGenerateNameLength {
			t.Errorf("generateName(%q, %d) = %q, want %q", tt.job, tt.index, got, tt.want)
		}
	}
}

// TestClassifyPodsDeletedBySuspension: a pod the job deleted on suspension
// is not a failure, whether it is gone still running or its node reported
// it Failed on the way out; a pod that failed while the job ran is one.
func TestClassifyPodsDeletedBySuspension(t *testing.T) {
	deleted := func(pod *corev1.Pod) *corev1.Pod {
		pod.DeletionTimestamp = ptr.To(metav1.Now())
		return pod
	}
	running := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	tests := []struct {
		name      string
		suspended bool
		pod       *corev1.Pod
		want      outcome
	}{
		{"deleted while running, suspended", true, deleted(running.DeepCopy()), releaseOnly},
		{"deleted and reported failed, suspended", true, deleted(failedPod(nil, exited("c", 137))), releaseOnly},
		{"failed without deletion, suspended", true, failedPod(nil, exited("c", 1)), countFailed},
		{"deleted and reported failed, running job", false, deleted(failedPod(nil, exited("c", 137))), countFailed},
		{"deleted while running, running job", false, deleted(running.DeepCopy()), countFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := newJob("j", func(j *batchv1.Job) { j.Spec.Suspend = ptr.To(tt.suspended) })
			s := &state{job: job, completions: 1}
			if got := s.classify(tt.pod); got != tt.want {
				t.Fatalf("classify = %v, want %v", got, tt.want)
			}
		})
	}
}

package replicaset

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestLimitedRecorder(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(t0)
	fake := events.NewFakeRecorder(1000)
	r := newLimitedRecorder(fake, clk)
	a := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "a", UID: "a"}}
	b := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "b", UID: "b"}}
	record := func(obj *appsv1.ReplicaSet, reason string, n int) {
		for range n {
			r.Eventf(obj, nil, "Normal", reason, "Create", "note")
		}
	}
	count := func() map[string]int {
		got := map[string]int{}
		for {
			select {
			case ev := <-fake.Events:
				got[strings.Fields(ev)[1]]++
			default:
				return got
			}
		}
	}
	steps := []struct {
		name string
		do   func()
		want map[string]int
	}{
		{"burst per object and reason", func() {
			record(a, "SuccessfulCreate", 100)
			record(b, "SuccessfulCreate", 3)
			record(a, "FailedCreate", 2)
		}, map[string]int{"SuccessfulCreate": eventBurst + 3, "FailedCreate": 2}},
		{"exhausted", func() { record(a, "SuccessfulCreate", 10) }, map[string]int{}},
		{"refilled slowly", func() {
			clk.SetTime(t0.Add(2*eventRefill + time.Second))
			record(a, "SuccessfulCreate", 10)
		}, map[string]int{"SuccessfulCreate": 2}},
	}
	for _, s := range steps {
		s.do()
		got := count()
		for reason, n := range s.want {
			if got[reason] != n {
				t.Errorf("%s: %d %s events, want %d", s.name, got[reason], reason, n)
			}
		}
		for reason, n := range got {
			if _, ok := s.want[reason]; !ok {
				t.Errorf("%s: %d unexpected %s events", s.name, n, reason)
			}
		}
	}
}

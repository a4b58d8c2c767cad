package main

import (
	"io"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Nodes != 200 || o.Replicas != 3000 || o.Objects != 1000 || o.Timeout != 20*time.Minute {
		t.Errorf("quick options = %+v, want 200 nodes, 3000 replicas, 1000 objects, 20m timeout", o)
	}
	for _, args := range [][]string{{"-nodes", "1", "-replicas", "111"}, {"-nodes", "20000"}, {"-only", "upstream"}, {"-objects", "1"}} {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("parseOptions(%q) accepted it", args)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{v: 1234.5, want: "1234"}, {v: 12.34, want: "12.3"}, {v: 1.234, want: "1.23"}, {v: -1, want: "-"},
	} {
		if got := format(tc.v); got != tc.want {
			t.Errorf("format(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
	if got := perSecond(3000, 2*time.Second); got != 1500 {
		t.Errorf("perSecond(3000, 2s) = %v, want 1500", got)
	}
	if got := perSecond(3000, 0); got != -1 {
		t.Errorf("perSecond(3000, 0) = %v, want -1", got)
	}
	if got := []float64{seconds(1500 * time.Millisecond), seconds(0)}; got[0] != 1.5 || got[1] != -1 {
		t.Errorf("seconds(1.5s), seconds(0) = %v, want [1.5 -1]", got)
	}
}

func TestNewObject(t *testing.T) {
	cm, secret := newObject(0)
	if cm == nil || secret != nil || cm.Name != "obj-00000" {
		t.Errorf("object 0 = %v, %v; want ConfigMap obj-00000", cm, secret)
	}
	cm, secret = newObject(7)
	if cm != nil || secret == nil || secret.Name != "obj-00007" {
		t.Errorf("object 7 = %v, %v; want Secret obj-00007", cm, secret)
	}
}

func TestRolledOut(t *testing.T) {
	replicas := int32(10)
	deployment := func(observed int64, total, updated, avail int32) *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Generation: 3},
			Spec:       appsv1.DeploymentSpec{Replicas: &replicas},
			Status: appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: total,
				UpdatedReplicas: updated, AvailableReplicas: avail},
		}
	}
	for _, tc := range []struct {
		name          string
		d             *appsv1.Deployment
		want          bool // rolled out
		wantAvailable bool
	}{
		{name: "complete", d: deployment(3, 10, 10, 10), want: true, wantAvailable: true},
		{name: "old generation", d: deployment(2, 10, 10, 10)},
		{name: "old pods left", d: deployment(3, 12, 10, 10), wantAvailable: true},
		{name: "not all updated", d: deployment(3, 10, 8, 10), wantAvailable: true},
		{name: "not all available", d: deployment(3, 10, 10, 9)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rolledOut(tc.d, 3, 10); got != tc.want {
				t.Errorf("rolledOut = %v, want %v", got, tc.want)
			}
			if got := available(tc.d, 3, 10); got != tc.wantAvailable {
				t.Errorf("available = %v, want %v", got, tc.wantAvailable)
			}
		})
	}
}

package controller

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
)

func TestEventSinkCreate(t *testing.T) {
	var requests []string
	var got eventsv1.Event
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests = append(requests, r.Method+" "+r.URL.String())
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Errorf("decode body: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(got)
	}))
	defer srv.Close()
	client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	sink := NewEventSink(client)
	ev := &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p.1"}, Reason: "Scheduled", Action: "Binding"}
	out, err := sink.Create(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"POST /apis/events.k8s.io/v1/namespaces/ns/events"}; !slices.Equal(requests, want) {
		t.Errorf("requests %q, want %q", requests, want)
	}
	if got.Name != "p.1" || got.Reason != "Scheduled" || out != ev {
		t.Errorf("sent %+v, returned %p (the event %p)", got, out, ev)
	}
	if _, err := sink.Create(context.Background(), &eventsv1.Event{}); err == nil {
		t.Error("an event without a namespace was posted")
	}
}

func TestEventSinkOfAFakeClientset(t *testing.T) {
	if _, ok := NewEventSink(fake.NewClientset()).(*events.EventSinkImpl); !ok {
		t.Error("a fake clientset, without a REST client, should get the typed client's sink")
	}
}

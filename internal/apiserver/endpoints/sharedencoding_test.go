package endpoints

import (
	"fmt"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSharedEncodingsEncodeOncePerObjectAndFormat(t *testing.T) {
	var s sharedEncodings
	encodes := 0
	encoder := func(text string) func() ([]byte, error) {
		return func() ([]byte, error) { encodes++; return []byte(text), nil }
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a"}}
	samePod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a"}} // equal, but another object
	json := encodingKey{obj: pod, mediaType: "application/json", gv: corev1.SchemeGroupVersion}
	proto := encodingKey{obj: pod, mediaType: "application/vnd.kubernetes.protobuf", gv: corev1.SchemeGroupVersion}
	other := encodingKey{obj: samePod, mediaType: "application/json", gv: corev1.SchemeGroupVersion}
	for range 3 {
		for _, c := range []struct {
			key  encodingKey
			want string
		}{{json, "json-a"}, {proto, "proto-a"}, {other, "json-other"}} {
			got, err := s.get(c.key, encoder(c.want))
			if err != nil || string(got) != c.want {
				t.Fatalf("get(%s %p) = %q, %v; want %q", c.key.mediaType, c.key.obj, got, err, c.want)
			}
		}
	}
	if encodes != 3 {
		t.Errorf("%d encodes for 3 distinct keys fetched 3 times each", encodes)
	}

	// Once sharedEncodingSlots newer objects went by, the first is encoded again.
	for i := range sharedEncodingSlots {
		key := encodingKey{obj: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint(i)}}, mediaType: "application/json"}
		if _, err := s.get(key, encoder("x")); err != nil {
			t.Fatal(err)
		}
	}
	encodes = 0
	if got, _ := s.get(json, encoder("json-again")); string(got) != "json-again" || encodes != 1 {
		t.Errorf("after eviction: %q with %d encodes, want a fresh encoding", got, encodes)
	}
	if len(s.entries) != sharedEncodingSlots {
		t.Errorf("%d entries kept, want %d", len(s.entries), sharedEncodingSlots)
	}
}

func TestSharedEncodingsErrorsAreNotKept(t *testing.T) {
	var s sharedEncodings
	key := encodingKey{obj: &corev1.Pod{}, mediaType: "application/json"}
	if _, err := s.get(key, func() ([]byte, error) { return nil, fmt.Errorf("boom") }); err == nil {
		t.Fatal("the encoder's error was not returned")
	}
	if got, err := s.get(key, func() ([]byte, error) { return []byte("ok"), nil }); err != nil || string(got) != "ok" {
		t.Fatalf("after a failed encode: %q, %v", got, err)
	}
}

func TestSharedEncodingsConcurrentWatchers(t *testing.T) {
	var s sharedEncodings
	objs := make([]*corev1.Pod, 50)
	for i := range objs {
		objs[i] = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint(i)}}
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i, obj := range objs {
				got, err := s.get(encodingKey{obj: obj, mediaType: "application/json"}, func() ([]byte, error) { return []byte(obj.Name), nil })
				if err != nil || string(got) != fmt.Sprint(i) {
					t.Errorf("object %d: %q, %v", i, got, err)
				}
			}
		})
	}
	wg.Wait()
}

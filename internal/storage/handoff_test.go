package storage

import (
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestHandoffs(t *testing.T) {
	var h handoffs
	obj := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	a := obj("a")
	h.offer("/a", []byte("a1"), a)
	if got := h.take("/a", []byte("a0")); got != nil {
		t.Errorf("other bytes at the key took %v", got)
	}
	if got := h.take("/b", []byte("a1")); got != nil {
		t.Errorf("the bytes at another key took %v", got)
	}
	if got := h.take("/a", []byte("a1")); got != a {
		t.Errorf("take = %v, want the offered object", got)
	}
	if got := h.take("/a", []byte("a1")); got != nil {
		t.Errorf("a second take got %v: the first taker owns the object", got)
	}

	h.offer("/a", []byte("a2"), obj("a"))
	h.withdraw("/a", []byte("a1")) // an older write's: not this offer
	h.offer("/b", []byte("b1"), obj("b"))
	h.withdraw("/b", []byte("b1"))
	if h.take("/a", []byte("a2")) == nil || h.take("/b", []byte("b1")) != nil {
		t.Error("withdraw dropped the wrong offer")
	}

	for i := range maxHandoffs + 1 {
		k := "/k" + strconv.Itoa(i)
		h.offer(k, []byte(k), obj(k))
	}
	if n := len(h.waiting); n > maxHandoffs {
		t.Errorf("%d offers wait, want at most %d", n, maxHandoffs)
	}
}

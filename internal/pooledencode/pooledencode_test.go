package pooledencode

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

func protobufCodec(t *testing.T) runtime.Codec {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	codecs := serializer.NewCodecFactory(scheme)
	for _, info := range codecs.SupportedMediaTypes() {
		if info.MediaType == runtime.ContentTypeProtobuf {
			return codecs.CodecForVersions(info.Serializer, info.Serializer, corev1.SchemeGroupVersion, corev1.SchemeGroupVersion)
		}
	}
	t.Fatal("no protobuf serializer")
	return nil
}

func configMap(name string, size int) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Data:       map[string]string{"k": strings.Repeat("x", size)},
	}
}

// TestEncodeToNewOwnsItsBytes checks that reusing the working memory never
// changes bytes already returned, across sizes smaller and larger than
// the reused buffers, and that they equal runtime.Encode's.
func TestEncodeToNewOwnsItsBytes(t *testing.T) {
	codec := protobufCodec(t)
	var kept [][]byte
	var want [][]byte
	for i, size := range []int{10, 5000, 3, maxPooled + 10, 7} {
		obj := configMap(strings.Repeat("a", i+1), size)
		data, err := EncodeToNew(codec, obj)
		if err != nil {
			t.Fatal(err)
		}
		expected, err := runtime.Encode(codec, obj)
		if err != nil {
			t.Fatal(err)
		}
		kept, want = append(kept, data), append(want, expected)
	}
	for i := range kept {
		if !bytes.Equal(kept[i], want[i]) {
			t.Fatalf("encoding %d changed after later encodes", i)
		}
		if cap(kept[i]) != len(kept[i]) {
			t.Fatalf("encoding %d holds %d spare bytes", i, cap(kept[i])-len(kept[i]))
		}
	}
}

// TestEncodeReturnsErrors passes on the encoder's and the callback's errors.
func TestEncodeReturnsErrors(t *testing.T) {
	codec := protobufCodec(t)
	stop := errors.New("stop")
	if err := Encode(codec, configMap("a", 1), func([]byte) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("callback error: got %v", err)
	}
	// A Deployment is not in the codec's scheme.
	called := false
	err := Encode(codec, &appsv1.Deployment{}, func([]byte) error { called = true; return nil })
	if err == nil || called {
		t.Fatalf("unregistered kind: err %v, callback called %v", err, called)
	}
}

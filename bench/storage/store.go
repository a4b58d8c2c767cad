package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/tugcluster/tug/bench/internal/benchkit"
	"github.com/tugcluster/tug/internal/storage"
)

// storeNamespace is where the object-level rows keep their ConfigMaps.
const storeNamespace = "bench"

// newConfigMapStore returns the object-level store the API server would
// use for ConfigMaps: storage.Store with the protobuf codec.
func newConfigMapStore(be storage.Backend) (*storage.Store, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	codecs := serializer.NewCodecFactory(scheme)
	info, ok := runtime.SerializerInfoForMediaType(codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	if !ok {
		return nil, fmt.Errorf("no %s serializer", runtime.ContentTypeProtobuf)
	}
	codec := codecs.CodecForVersions(info.Serializer, info.Serializer, corev1.SchemeGroupVersion, corev1.SchemeGroupVersion)
	return storage.NewStore(be, storage.Config{
		Codec:   codec,
		NewFunc: func() runtime.Object { return &corev1.ConfigMap{} },
	}), nil
}

// configMapData is the 1 KiB payload of every benchmark ConfigMap.
var configMapData = strings.Repeat("0123456789abcdef", valueSize/16)

func configMapKey(i int64) string {
	return fmt.Sprintf("/registry/configmaps/%s/cm-%09d", storeNamespace, i)
}

// storeCreateLoad creates n ConfigMaps through st with 64 writers.
func storeCreateLoad(ctx context.Context, st storage.Interface, n int) (benchkit.Result, error) {
	return benchkit.RunOps(ctx, 64, benchkit.Limit{Ops: int64(n)}, func(ctx context.Context, _ int, i int64) error {
		cm := &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%09d", i), Namespace: storeNamespace},
			Data:       map[string]string{"data": configMapData},
		}
		return st.Create(ctx, configMapKey(i), cm, nil, 0)
	})
}

// storeList lists every ConfigMap in the namespace through st, decoding
// each, and fails unless it got want.
func storeList(ctx context.Context, st storage.Interface, want int) (time.Duration, error) {
	start := time.Now()
	var list corev1.ConfigMapList
	err := st.GetList(ctx, "/registry/configmaps/"+storeNamespace, storage.ListOptions{
		Recursive: true,
		Predicate: storage.Everything(),
	}, &list)
	elapsed := time.Since(start)
	if err != nil {
		return 0, err
	}
	if len(list.Items) != want || len(list.Items[0].Data["data"]) != len(configMapData) {
		return 0, fmt.Errorf("listed %d configmaps, want %d", len(list.Items), want)
	}
	return elapsed, nil
}

// storeListMedian runs storeList runs times and returns the median.
func storeListMedian(ctx context.Context, st storage.Interface, want, runs int) (time.Duration, error) {
	var ds []time.Duration
	for range runs {
		d, err := storeList(ctx, st, want)
		if err != nil {
			return 0, err
		}
		ds = append(ds, d)
	}
	return benchkit.Percentile(ds, 50), nil
}

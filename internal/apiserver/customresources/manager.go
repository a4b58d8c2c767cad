// Package customresources serves the custom resources of
// CustomResourceDefinitions: it watches the CRDs, establishes them (names
// accepted, Established condition), builds a watch cache and a registry
// store per served version for each, and on a CRD's deletion deletes its
// objects before letting the CRD go.
package customresources

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/apiserver/resources"
	"github.com/tugcluster/tug/internal/storage"
)

// Served is one served version of a custom resource.
type Served struct {
	CRD      *apiextensionsv1.CustomResourceDefinition
	Version  *apiextensionsv1.CustomResourceDefinitionVersion
	Resource *resources.Resource
}

// Config is what a Manager serves from.
type Config struct {
	// CRDs is the store of customresourcedefinitions.
	CRDs *registry.Store
	// Backend stores the custom resources.
	Backend storage.Backend
	// NewSchema builds a version's schema checker; props may be nil.
	NewSchema func(props *apiextensionsv1.JSONSchemaProps) (Schema, error)
	// OnChange is told, one call at a time, every served version whenever
	// the set changes (discovery and OpenAPI rebuild their documents).
	OnChange func(served []Served)
}

// Manager serves the custom resources of the established CRDs.
type Manager struct {
	cfg Config
	log logr.Logger

	mu     sync.RWMutex
	byName map[string]*serving
	byGVR  map[schema.GroupVersionResource]*registry.Store
	// synced is closed once the CRDs stored at start are served.
	synced     chan struct{}
	syncedOnce sync.Once
	// plurals and columns serve Columns.
	plurals map[schema.GroupKind]string
	columns map[schema.GroupVersionResource][]apiextensionsv1.CustomResourceColumnDefinition
}

// New returns a Manager; Run starts it.
func New(cfg Config) *Manager {
	return &Manager{cfg: cfg, byName: map[string]*serving{}, byGVR: map[schema.GroupVersionResource]*registry.Store{},
		synced:  make(chan struct{}),
		plurals: map[schema.GroupKind]string{}, columns: map[schema.GroupVersionResource][]apiextensionsv1.CustomResourceColumnDefinition{}}
}

// WaitSynced blocks until the CRDs stored at start are served (the server
// is not ready before: their objects would be 404 for a moment), or ctx
// ends.
func (m *Manager) WaitSynced(ctx context.Context) error {
	select {
	case <-m.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Columns returns the additionalPrinterColumns of a served custom kind or
// list kind.
func (m *Manager) Columns(gvk schema.GroupVersionKind) ([]apiextensionsv1.CustomResourceColumnDefinition, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	store, ok := m.byGVR[gvk.GroupVersion().WithResource(m.plurals[gvk.GroupKind()])]
	if !ok || (store.Resource.Kind != gvk.Kind && store.Resource.ListKind != gvk.Kind) {
		return nil, false
	}
	return m.columns[store.Resource.GVR], true
}

// Lookup returns the store of a served custom resource version.
func (m *Manager) Lookup(gvr schema.GroupVersionResource) (*registry.Store, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.byGVR[gvr]
	return s, ok
}

// Served lists every served version, by CRD name and then in the CRD's
// version order.
func (m *Manager) Served() []Served {
	m.mu.RLock()
	defer m.mu.RUnlock()
	names := make([]string, 0, len(m.byName))
	for name := range m.byName {
		names = append(names, name)
	}
	slices.Sort(names)
	var out []Served
	for _, name := range names {
		s := m.byName[name]
		for _, v := range s.versions {
			for i := range s.crd.Spec.Versions {
				if s.crd.Spec.Versions[i].Name == v {
					out = append(out, Served{CRD: s.crd, Version: &s.crd.Spec.Versions[i], Resource: s.stores[v].Resource})
				}
			}
		}
	}
	return out
}

// resyncPeriod is how often CRDs that wait for something (their objects
// to go, on deletion) are looked at again.
const resyncPeriod = time.Second

// Run keeps the served set in step with the stored CRDs until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	m.log = klog.FromContext(ctx).WithName("customresources")
	defer m.stopAll()
	for ctx.Err() == nil {
		if err := m.listAndWatch(ctx); err != nil && ctx.Err() == nil {
			m.log.Error(err, "Watching CustomResourceDefinitions")
			select {
			case <-ctx.Done():
			case <-time.After(resyncPeriod):
			}
		}
	}
}

// listAndWatch syncs every CRD, then each one that changes, and the ones
// that wait for something every resyncPeriod.
func (m *Manager) listAndWatch(ctx context.Context) error {
	list, err := m.cfg.CRDs.List(ctx, "", &metav1.ListOptions{})
	if err != nil {
		return err
	}
	crds := list.(*apiextensionsv1.CustomResourceDefinitionList)
	present := map[string]bool{}
	waiting := map[string]bool{}
	for i := range crds.Items {
		present[crds.Items[i].Name] = true
		if m.sync(ctx, &crds.Items[i]) {
			waiting[crds.Items[i].Name] = true
		}
	}
	m.mu.RLock()
	var gone []string
	for name := range m.byName {
		if !present[name] {
			gone = append(gone, name)
		}
	}
	m.mu.RUnlock()
	for _, name := range gone {
		m.unserve(name)
	}
	m.changed()
	m.syncedOnce.Do(func() { close(m.synced) })
	w, err := m.cfg.CRDs.Watch(ctx, "", &metav1.ListOptions{ResourceVersion: crds.ResourceVersion, AllowWatchBookmarks: true})
	if err != nil {
		return err
	}
	defer w.Stop()
	ticker := time.NewTicker(resyncPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			for name := range waiting {
				obj, err := m.cfg.CRDs.Get(ctx, "", name, &metav1.GetOptions{})
				if err != nil {
					delete(waiting, name)
					continue
				}
				if !m.sync(ctx, obj.(*apiextensionsv1.CustomResourceDefinition)) {
					delete(waiting, name)
				}
			}
		case ev, ok := <-w.ResultChan():
			if !ok {
				return errors.New("watch of CustomResourceDefinitions ended")
			}
			crd, isCRD := ev.Object.(*apiextensionsv1.CustomResourceDefinition)
			switch {
			case ev.Type == watch.Error:
				return errors.New("watch of CustomResourceDefinitions failed")
			case !isCRD:
				continue
			case ev.Type == watch.Deleted:
				delete(waiting, crd.Name)
				m.unserve(crd.Name)
				m.changed()
			case ev.Type == watch.Added || ev.Type == watch.Modified:
				if m.sync(ctx, crd.DeepCopy()) {
					waiting[crd.Name] = true
				} else {
					delete(waiting, crd.Name)
				}
			}
		}
	}
}

// changed tells OnChange the served set.
func (m *Manager) changed() {
	if m.cfg.OnChange != nil {
		m.cfg.OnChange(m.Served())
	}
}

// unserve stops serving a CRD's resources.
func (m *Manager) unserve(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unserveLocked(name)
}

func (m *Manager) unserveLocked(name string) {
	s, ok := m.byName[name]
	if !ok {
		return
	}
	for _, store := range s.stores {
		delete(m.byGVR, store.Resource.GVR)
		delete(m.columns, store.Resource.GVR)
		delete(m.plurals, store.Resource.GroupVersionKind().GroupKind())
		delete(m.plurals, schema.GroupKind{Group: store.Resource.GVR.Group, Kind: store.Resource.ListKind})
	}
	delete(m.byName, name)
	s.stop()
}

func (m *Manager) stopAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name := range m.byName {
		m.unserveLocked(name)
	}
}

package endpoints

import (
	"context"
	"net/http"
	"reflect"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/tugcluster/tug/internal/apiserver/registry"
	"github.com/tugcluster/tug/internal/pooledencode"
)

const (
	// defaultWatchTimeout ends watches whose client set no timeout; clients
	// re-establish them.
	defaultWatchTimeout = 30 * time.Minute
	// bookmarkInterval is how often an idle watch that allows bookmarks
	// hears the current resourceVersion.
	bookmarkInterval = 30 * time.Second
	// initialEventsEndAnnotation marks the bookmark that ends the initial
	// events of a sendInitialEvents watch.
	initialEventsEndAnnotation = "k8s.io/initial-events-end"
)

// watch streams events as WatchEvent frames in the negotiated format.
func (h *Handler) watch(ctx context.Context, w http.ResponseWriter, r *http.Request, store *registry.Store, info RequestInfo) {
	opts, err := h.watchOptions(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out, err := negotiateOutput(r, h.infosFor(store))
	if err == nil && out.info.StreamSerializer == nil {
		err = apierrors.NewBadRequest("watch is not supported in " + out.info.MediaType)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	timeout := defaultWatchTimeout
	if opts.TimeoutSeconds != nil {
		timeout = time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var initial []runtime.Object
	var initialRV string
	if opts.SendInitialEvents != nil && *opts.SendInitialEvents {
		if opts.ResourceVersionMatch != metav1.ResourceVersionMatchNotOlderThan || !opts.AllowWatchBookmarks {
			h.writeError(w, r, apierrors.NewBadRequest(
				"sendInitialEvents requires resourceVersionMatch=NotOlderThan and allowWatchBookmarks=true"))
			return
		}
		listOpts := *opts
		listOpts.Limit, listOpts.Continue = 0, ""
		if listOpts.ResourceVersion == "" {
			listOpts.ResourceVersionMatch = "" // a consistent read
		}
		list, err := store.List(ctx, info.Namespace, &listOpts)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if initial, err = meta.ExtractList(list); err != nil {
			h.writeError(w, r, apierrors.NewInternalError(err))
			return
		}
		la, _ := meta.ListAccessor(list)
		initialRV = la.GetResourceVersion()
		opts.ResourceVersion = initialRV
	}
	watcher, err := store.Watch(ctx, info.Namespace, opts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer watcher.Stop()

	s := &watchStream{h: h, w: w, r: r, out: out, gv: gvOf(store), newObj: store.Resource.New}
	s.start()
	for _, obj := range initial {
		if !s.send(watch.Event{Type: watch.Added, Object: obj}) {
			return
		}
	}
	if initialRV != "" {
		s.lastRV = initialRV
		if !s.bookmark(map[string]string{initialEventsEndAnnotation: "true"}) {
			return
		}
	}
	s.flush()
	ticker := time.NewTicker(bookmarkInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if opts.AllowWatchBookmarks && s.lastRV != "" && !s.bookmark(nil) {
				return
			}
		case ev, ok := <-watcher.ResultChan():
			if !ok || !s.send(ev) || !s.sendReady(watcher.ResultChan()) {
				return
			}
		}
		s.flush()
	}
}

// maxUnflushedEvents bounds the events a watch writes before it flushes
// even though more are ready.
const maxUnflushedEvents = 100

// sendReady sends the events already waiting in events, up to
// maxUnflushedEvents, so that a burst leaves in one flush (each a frame
// handed to the connection's writer, a TLS record and a write) rather than
// one per event; false means the client is gone or the watch ended.
func (s *watchStream) sendReady(events <-chan watch.Event) bool {
	for range maxUnflushedEvents - 1 {
		select {
		case ev, ok := <-events:
			if !ok || !s.send(ev) {
				s.flush()
				return false
			}
		default:
			return true
		}
	}
	return true
}

// watchStream writes watch events to one response.
type watchStream struct {
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	out    output
	gv     schema.GroupVersion
	newObj func() runtime.Object
	lastRV string
}

func (s *watchStream) start() {
	contentType := s.out.info.MediaType
	if s.out.info.MediaType == runtime.ContentTypeProtobuf {
		contentType += ";stream=watch"
	}
	s.w.Header().Set("Content-Type", contentType)
	s.w.Header().Set("Transfer-Encoding", "chunked")
	s.w.WriteHeader(http.StatusOK)
	s.flush()
}

func (s *watchStream) flush() {
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}

// send writes one event, unflushed; false means the client is gone.
func (s *watchStream) send(ev watch.Event) bool {
	obj, gv := ev.Object, s.gv
	// The watch cache hands every watcher the same object: its encoding
	// can be shared, unlike errors, bookmarks and the tables and metadata
	// made for this watcher.
	shared := ev.Type != watch.Bookmark && reflect.ValueOf(obj).Kind() == reflect.Pointer
	if ev.Type == watch.Error {
		shared = false
		if status, ok := obj.(*metav1.Status); ok {
			status.Kind, status.APIVersion = "Status", "v1"
		}
		gv = schema.GroupVersion{Version: "v1"}
	} else {
		if accessor, err := meta.Accessor(obj); err == nil {
			s.lastRV = accessor.GetResourceVersion()
		}
		switch s.out.as {
		case asTable:
			table, err := s.h.toTable(s.r, obj)
			if err != nil {
				return false
			}
			obj, gv, shared = table, metav1.SchemeGroupVersion, false
		case asPartialObjectMetadata, asPartialObjectMetadataList:
			pom, err := partialMetadata(obj)
			if err != nil {
				return false
			}
			obj, gv, shared = pom, metav1.SchemeGroupVersion, false
		}
	}
	encoder := s.h.encoderFor(s.out.info.Serializer, obj, gv)
	write := func(data []byte) error {
		frame := s.out.info.StreamSerializer.NewFrameWriter(s.w)
		event := &metav1.WatchEvent{Type: string(ev.Type), Object: runtime.RawExtension{Raw: data}}
		return s.out.info.StreamSerializer.Encode(event, frame)
	}
	var err error
	if shared {
		var data []byte
		data, err = s.h.encodings.get(encodingKey{obj: obj, mediaType: s.out.info.MediaType, gv: gv}, func() ([]byte, error) {
			return pooledencode.EncodeToNew(encoder, shallowCopy(obj))
		})
		if err == nil {
			err = write(data)
		}
	} else {
		err = pooledencode.Encode(encoder, shallowCopy(obj), write)
	}
	return err == nil
}

// bookmark sends a BOOKMARK event at the last resourceVersion seen.
func (s *watchStream) bookmark(annotations map[string]string) bool {
	obj := s.newObj()
	accessor, err := meta.Accessor(obj)
	if err != nil {
		return false
	}
	accessor.SetResourceVersion(s.lastRV)
	accessor.SetAnnotations(annotations)
	return s.send(watch.Event{Type: watch.Bookmark, Object: obj})
}

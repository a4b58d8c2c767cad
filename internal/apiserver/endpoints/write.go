package endpoints

import (
	"net/http"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/pooledencode"
)

// respond encodes obj in the negotiated format with status code.
func (h *Handler) respond(w http.ResponseWriter, r *http.Request, code int, obj runtime.Object, gv schema.GroupVersion) {
	h.respondAs(w, r, code, obj, gv, true)
}

// respondAs is respond for objects that can be shown as a Table (tables)
// or not.
func (h *Handler) respondAs(w http.ResponseWriter, r *http.Request, code int, obj runtime.Object, gv schema.GroupVersion, tables bool) {
	infos := h.infos
	if IsCustom(obj) {
		infos = h.textInfos
	}
	out, err := negotiateOutputOf(r, infos, tables)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	switch out.as {
	case asTable:
		table, err := h.toTable(r, obj)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		obj, gv = table, metav1.SchemeGroupVersion
	case asPartialObjectMetadata, asPartialObjectMetadataList:
		pom, err := partialMetadata(obj)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		obj, gv = pom, metav1.SchemeGroupVersion
	}
	h.writeObject(w, r, out, code, obj, gv)
}

// writeObject encodes obj as gv with the chosen serializer.
func (h *Handler) writeObject(w http.ResponseWriter, _ *http.Request, out output, code int, obj runtime.Object, gv schema.GroupVersion) {
	s := out.info.Serializer
	if out.pretty && out.info.PrettySerializer != nil {
		s = out.info.PrettySerializer
	}
	err := pooledencode.Encode(h.encoderFor(s, obj, gv), shallowCopy(obj), func(data []byte) error {
		w.Header().Set("Content-Type", out.contentType())
		w.WriteHeader(code)
		_, _ = w.Write(data)
		return nil
	})
	if err != nil {
		status := statusOf(err)
		status.Kind, status.APIVersion = "Status", "v1"
		data, _ := runtime.Encode(h.codecs.EncoderForVersion(h.jsonInfo.Serializer, schema.GroupVersion{Version: "v1"}), status)
		w.Header().Set("Content-Type", output{info: h.jsonInfo}.contentType())
		w.WriteHeader(int(status.Code))
		_, _ = w.Write(data)
	}
}

// toTable converts obj (an object or a list) into a Table.
func (h *Handler) toTable(r *http.Request, obj runtime.Object) (*metav1.Table, error) {
	opts := &metav1.TableOptions{}
	if err := h.params.DecodeParameters(r.URL.Query(), metav1.SchemeGroupVersion, opts); err != nil {
		return nil, badRequest(err)
	}
	include := opts.IncludeObject
	if include == "" {
		include = metav1.IncludeMetadata
	}
	table, err := h.table(obj, opts.NoHeaders, include, h.clock.Now())
	if err != nil {
		return nil, err
	}
	if meta.IsListType(obj) {
		if list, err := meta.ListAccessor(obj); err == nil {
			table.ResourceVersion = list.GetResourceVersion()
			table.Continue = list.GetContinue()
			table.RemainingItemCount = list.GetRemainingItemCount()
		}
	} else if accessor, err := meta.Accessor(obj); err == nil {
		table.ResourceVersion = accessor.GetResourceVersion()
	}
	return table, nil
}

// partialMetadata returns the metadata-only form of obj or of each item.
func partialMetadata(obj runtime.Object) (runtime.Object, error) {
	one := func(o runtime.Object) (*metav1.PartialObjectMetadata, error) {
		accessor, err := meta.Accessor(o)
		if err != nil {
			return nil, err
		}
		typeAccessor, err := meta.TypeAccessor(o)
		if err != nil {
			return nil, err
		}
		pom := meta.AsPartialObjectMetadata(accessor).DeepCopy()
		pom.APIVersion, pom.Kind = typeAccessor.GetAPIVersion(), typeAccessor.GetKind()
		return pom, nil
	}
	if !meta.IsListType(obj) {
		return one(obj)
	}
	items, err := meta.ExtractList(obj)
	if err != nil {
		return nil, err
	}
	list := &metav1.PartialObjectMetadataList{}
	if la, err := meta.ListAccessor(obj); err == nil {
		list.ResourceVersion, list.Continue, list.RemainingItemCount = la.GetResourceVersion(), la.GetContinue(), la.GetRemainingItemCount()
	}
	for _, item := range items {
		pom, err := one(item)
		if err != nil {
			return nil, err
		}
		list.Items = append(list.Items, *pom)
	}
	return list, nil
}

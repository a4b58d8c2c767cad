package discovery

import (
	"mime"
	"slices"
	"strconv"
	"strings"
)

// acceptClause is one media range of an Accept header.
type acceptClause struct {
	mediaType string
	params    map[string]string
	q         float64
}

// parseAccept splits Accept header values into clauses, ordered by
// quality, highest first; equal qualities keep the client's order.
// Malformed clauses and those with q=0 are dropped.
func parseAccept(values []string) []acceptClause {
	var clauses []acceptClause
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(s, 64); err == nil {
					q = f
				}
				delete(params, "q")
			}
			if q > 0 {
				clauses = append(clauses, acceptClause{mediaType: mediaType, params: params, q: q})
			}
		}
	}
	slices.SortStableFunc(clauses, func(a, b acceptClause) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	return clauses
}

// negotiate picks the document the Accept header values ask for, and
// whether it is the aggregated form; nil if none is acceptable. No Accept
// header means legacy JSON. Aggregated discovery wins whenever a clause
// asks for it, as upstream serves it, since clients list it to get it.
func (docs *documents) negotiate(accept []string) (*document, bool) {
	if strings.TrimSpace(strings.Join(accept, "")) == "" {
		return docs.legacy[formatJSON], false
	}
	clauses := parseAccept(accept)
	if docs.aggregated != nil {
		for _, c := range clauses {
			f, ok := formatOf[c.mediaType]
			// A "profile=nopeer" parameter asks to leave out the resources
			// of peer servers; tug has none, so the document is the same.
			if ok && c.params["g"] == "apidiscovery.k8s.io" && c.params["v"] == "v2" &&
				c.params["as"] == "APIGroupDiscoveryList" {
				return docs.aggregated[f], true
			}
		}
	}
	for _, c := range clauses {
		if _, ok := c.params["as"]; ok {
			// A conversion such as as=Table, or another version of
			// aggregated discovery (v2beta1 is no longer served).
			continue
		}
		switch c.mediaType {
		case "*/*", "application/*":
			return docs.legacy[formatJSON], false
		}
		if f, ok := formatOf[c.mediaType]; ok {
			return docs.legacy[f], false
		}
	}
	return nil, false
}

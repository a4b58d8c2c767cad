package resources

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// apiResourcesRow is one line of `kubectl api-resources`.
type apiResourcesRow struct {
	Name, ShortNames, APIVersion, Namespaced, Kind string
}

// readAPIResources parses testdata/upstream-api-resources.txt, a copy of
// ../shared/conformance/upstream-api-resources.txt: kubectl's columns are
// fixed-width, aligned under the header's words.
func readAPIResources(t *testing.T) []apiResourcesRow {
	t.Helper()
	f, err := os.Open("testdata/upstream-api-resources.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		t.Fatal("empty file")
	}
	header := sc.Text()
	var starts []int
	for _, col := range []string{"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"} {
		starts = append(starts, strings.Index(header, col))
	}
	var rows []apiResourcesRow
	for sc.Scan() {
		line := sc.Text()
		field := func(i int) string {
			end := len(line)
			if i+1 < len(starts) {
				end = min(starts[i+1], len(line))
			}
			return strings.TrimSpace(line[min(starts[i], len(line)):end])
		}
		rows = append(rows, apiResourcesRow{field(0), field(1), field(2), field(3), field(4)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestBuiltinMatchesUpstream compares the catalog with what `kubectl
// api-resources` prints against upstream: one row per resource at its
// group's preferred version.
func TestBuiltinMatchesUpstream(t *testing.T) {
	want := readAPIResources(t)
	if len(want) < 70 {
		t.Fatalf("parsed %d rows, want 70 or more", len(want))
	}
	c := BuiltinCatalog()
	var got []apiResourcesRow
	for _, g := range c.Groups() {
		for _, r := range c.ForGroupVersion(g.PreferredVersion()) {
			got = append(got, apiResourcesRow{
				Name:       r.GVR.Resource,
				ShortNames: strings.Join(r.ShortNames, ","),
				APIVersion: r.GVR.GroupVersion().String(),
				Namespaced: map[bool]string{true: "true", false: "false"}[r.Namespaced],
				Kind:       r.Kind,
			})
		}
	}
	// kubectl sorts by group, then name.
	byGroupName := func(a, b apiResourcesRow) int {
		ga, gb := groupOf(a.APIVersion), groupOf(b.APIVersion)
		if ga != gb {
			return strings.Compare(ga, gb)
		}
		return strings.Compare(a.Name, b.Name)
	}
	slices.SortStableFunc(got, byGroupName)
	slices.SortStableFunc(want, byGroupName)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("catalog differs from upstream-api-resources.txt (-upstream +catalog):\n%s", diff)
	}
}

func groupOf(apiVersion string) string {
	gv, _ := schema.ParseGroupVersion(apiVersion)
	return gv.Group
}

func TestGroupVersionsMatchUpstream(t *testing.T) {
	data, err := os.ReadFile("testdata/upstream-api-versions.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(data))
	var got []string
	for _, gv := range BuiltinCatalog().GroupVersions() {
		got = append(got, gv.String())
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("group-versions differ from upstream-api-versions.txt (-upstream +catalog):\n%s", diff)
	}
}

func TestPreferredVersions(t *testing.T) {
	for _, g := range ServedVersions() {
		want := "v1"
		if g.Name == "autoscaling" {
			want = "v2"
		}
		if got := g.PreferredVersion().Version; got != want {
			t.Errorf("group %q: preferred version %s, want %s", g.Name, got, want)
		}
	}
	if g := ServedVersions()[0]; g.Name != "" {
		t.Errorf("first group is %q, want the core group", g.Name)
	}
}

func TestCategories(t *testing.T) {
	want := map[string][]string{
		CategoryAll: {"cronjobs", "daemonsets", "deployments", "horizontalpodautoscalers", "jobs", "pods",
			"replicasets", "replicationcontrollers", "services", "statefulsets"},
		CategoryAPIExtensions: {"apiservices", "customresourcedefinitions", "mutatingadmissionpolicies",
			"mutatingadmissionpolicybindings", "mutatingwebhookconfigurations", "validatingadmissionpolicies",
			"validatingadmissionpolicybindings", "validatingwebhookconfigurations"},
	}
	got := map[string][]string{}
	for _, g := range ServedVersions() {
		for _, r := range ForGroupVersion(g.PreferredVersion()) {
			for _, cat := range r.Categories {
				got[cat] = append(got[cat], r.GVR.Resource)
			}
		}
	}
	for cat := range got {
		slices.Sort(got[cat])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("categories (-want +got):\n%s", diff)
	}
}

func TestCatalogEntriesAreComplete(t *testing.T) {
	seen := map[schema.GroupVersionResource]bool{}
	for _, r := range Builtin() {
		if seen[r.GVR] {
			t.Errorf("%v listed twice", r.GVR)
		}
		seen[r.GVR] = true
		if r.Kind == "" || r.SingularName != strings.ToLower(r.Kind) || len(r.Verbs) == 0 || r.New == nil {
			t.Errorf("%v: incomplete entry: kind %q singular %q verbs %v", r.GVR, r.Kind, r.SingularName, r.Verbs)
		}
		lists := slices.Contains(r.Verbs, "list")
		if lists != (r.NewList != nil) || lists != (r.ListKind == r.Kind+"List") {
			t.Errorf("%v: verbs %v but list kind %q", r.GVR, r.Verbs, r.ListKind)
		}
		if !slices.IsSorted(r.Verbs) {
			t.Errorf("%v: verbs %v are not sorted", r.GVR, r.Verbs)
		}
		for _, sub := range r.Subresources {
			if len(sub.Verbs) == 0 || !slices.IsSorted(sub.Verbs) {
				t.Errorf("%v/%s: verbs %v", r.GVR, sub.Name, sub.Verbs)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	pods := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	r, ok := Lookup(pods)
	if !ok || r.Kind != "Pod" || !r.Namespaced {
		t.Fatalf("Lookup(pods) = %+v, %v", r, ok)
	}
	sub, ok := r.Subresource("eviction")
	if !ok || sub.GVK.Group != "policy" || sub.GVK.Kind != "Eviction" {
		t.Errorf("pods/eviction = %+v, %v", sub, ok)
	}
	if _, ok := r.Subresource("nope"); ok {
		t.Error("pods/nope found")
	}
	hpaV1 := schema.GroupVersionResource{Group: "autoscaling", Version: "v1", Resource: "horizontalpodautoscalers"}
	if r, ok := Lookup(hpaV1); !ok || r.StorageVersion.Version != "v2" {
		t.Errorf("Lookup(%v) = %+v, %v", hpaV1, r, ok)
	}
	if _, ok := Lookup(schema.GroupVersionResource{Group: "autoscaling", Version: "v1", Resource: "scales"}); ok {
		t.Error("autoscaling/v1 scales found")
	}
	if r, ok := BuiltinCatalog().LookupKind(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}); !ok ||
		r.GVR.Resource != "deployments" {
		t.Errorf("LookupKind(Deployment) = %+v, %v", r, ok)
	}
	if got := len(ForGroupVersion(schema.GroupVersion{Group: "autoscaling", Version: "v1"})); got != 1 {
		t.Errorf("autoscaling/v1 has %d resources, want 1", got)
	}
	if got := len(ForGroupVersion(schema.GroupVersion{Group: "nope", Version: "v1"})); got != 0 {
		t.Errorf("nope/v1 has %d resources", got)
	}
}

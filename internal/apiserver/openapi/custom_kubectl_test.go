package openapi

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tugcluster/tug/internal/apiserver/resources"
)

// TestKubectlExplainCustom runs the real kubectl explain, with the v3 and
// the v2 documents, against custom kinds published beside the built-in
// ones, checking what the conformance specs of CustomResourcePublishOpenAPI
// check.
func TestKubectlExplainCustom(t *testing.T) {
	custom := customKinds(t, "crontabs.yaml", "anythings.yaml", "foos.yaml")
	o, err := newBuiltin(t).WithCustom(custom)
	if err != nil {
		t.Fatal(err)
	}
	rs := resources.Builtin()
	for _, k := range custom {
		r := resources.Resource{
			GVR:          k.GVK.GroupVersion().WithResource(k.Resource),
			Kind:         k.GVK.Kind,
			ListKind:     k.ListKind,
			SingularName: strings.ToLower(k.GVK.Kind),
			Namespaced:   k.Namespaced,
			Verbs:        k.Verbs,
		}
		for _, sub := range k.Subresources {
			r.Subresources = append(r.Subresources, resources.Subresource{Name: sub.Name, GVK: sub.GVK, Verbs: sub.Verbs})
		}
		rs = append(rs, r)
	}
	kubectl := serveKubectl(t, o, rs)

	for _, tc := range []struct {
		args []string
		want string // a regular expression the output matches
		fail string // when set, kubectl fails saying this
	}{
		{
			args: []string{"explain", "crontabs"},
			want: `(?s)DESCRIPTION:.*CronTab runs a command on a schedule.*FIELDS:.*apiVersion.*<string>.*APIVersion defines.*spec.*<Object>.*Desired state of the CronTab`,
		},
		{
			args: []string{"explain", "crontabs.metadata"},
			want: `(?s)DESCRIPTION:.*Standard object's metadata.*FIELDS:.*creationTimestamp.*<string>.*CreationTimestamp is a timestamp`,
		},
		{
			args: []string{"explain", "crontabs.spec"},
			want: `(?s)DESCRIPTION:.*Desired state of the CronTab.*FIELDS:.*cronSpec.*<string> -required-.*The schedule in cron format.*ports.*<\[\]Object>.*Ports keyed by name and protocol`,
		},
		{
			args: []string{"explain", "crontabs.spec.ports"},
			want: `(?s)ports <\[\]Object>.*DESCRIPTION:.*Ports keyed by name and protocol.*FIELDS:.*name.*<string> -required-.*protocol.*<string> -required-`,
		},
		{
			args: []string{"explain", "crontabs.spec.template"},
			want: `(?s)An embedded object.*FIELDS:.*apiVersion.*<string>.*metadata.*<ObjectMeta>`,
		},
		{
			args: []string{"explain", "crontabs.spec.bars2"},
			fail: `field "bars2" does not exist`,
		},
		{
			args: []string{"explain", "anythings", "--api-version=any.example.com/v1alpha1"},
			want: `(?s)KIND:.*Anything.*DESCRIPTION:.*<empty>`,
		},
		{
			args: []string{"explain", "anythings", "--api-version=any.example.com/v2"},
			want: `(?s)KIND:.*Anything.*DESCRIPTION:.*root preserve with props`,
		},
		{
			args: []string{"explain", "foos"},
			want: `(?s)DESCRIPTION:.*Foo CRD for Testing.*spec.*<Object>.*Specification of Foo`,
		},
		{
			args: []string{"explain", "crontabs", "--output=plaintext-openapiv2"},
			want: `(?s)KIND:.*CronTab.*DESCRIPTION:.*CronTab runs a command on a schedule.*FIELDS:.*apiVersion.*<string>.*APIVersion defines.*spec.*<Object>.*Desired state of the CronTab`,
		},
		{
			args: []string{"explain", "crontabs.spec.ports", "--output=plaintext-openapiv2"},
			want: `(?s)RESOURCE:.*ports <\[\]Object>.*DESCRIPTION:.*Ports keyed by name and protocol.*FIELDS:.*name.*<string> -required-`,
		},
		{
			args: []string{"explain", "anythings", "--api-version=any.example.com/v1alpha1", "--output=plaintext-openapiv2"},
			want: `(?s)KIND:.*Anything.*DESCRIPTION:.*<empty>`,
		},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := kubectl(tc.args...)
			if tc.fail != "" {
				if err == nil || !strings.Contains(out, tc.fail) {
					t.Fatalf("kubectl %v: want failure saying %q, got %v:\n%s", tc.args, tc.fail, err, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("kubectl %v: %v\n%s", tc.args, err, out)
			}
			if !regexp.MustCompile(tc.want).MatchString(out) {
				t.Errorf("output does not match %s:\n%s", tc.want, out)
			}
		})
	}
}

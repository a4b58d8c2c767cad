package nodeaffinity

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestTermMatches(t *testing.T) {
	labeled := node("n1", map[string]string{"zone": "a", "gpu": "true", "cores": "8"})
	tests := []struct {
		name    string
		term    corev1.NodeSelectorTerm
		wantErr bool
		want    bool
	}{
		{name: "In matches", term: exprTerm(expr("zone", corev1.NodeSelectorOpIn, "b", "a")), want: true},
		{name: "In misses", term: exprTerm(expr("zone", corev1.NodeSelectorOpIn, "b")), want: false},
		{name: "In on a missing label", term: exprTerm(expr("rack", corev1.NodeSelectorOpIn, "a")), want: false},
		{name: "NotIn matches", term: exprTerm(expr("zone", corev1.NodeSelectorOpNotIn, "b")), want: true},
		{name: "NotIn misses", term: exprTerm(expr("zone", corev1.NodeSelectorOpNotIn, "a")), want: false},
		{name: "NotIn on a missing label matches", term: exprTerm(expr("rack", corev1.NodeSelectorOpNotIn, "a")), want: true},
		{name: "Exists", term: exprTerm(expr("gpu", corev1.NodeSelectorOpExists)), want: true},
		{name: "Exists misses", term: exprTerm(expr("rack", corev1.NodeSelectorOpExists)), want: false},
		{name: "DoesNotExist", term: exprTerm(expr("rack", corev1.NodeSelectorOpDoesNotExist)), want: true},
		{name: "DoesNotExist misses", term: exprTerm(expr("gpu", corev1.NodeSelectorOpDoesNotExist)), want: false},
		{name: "Gt", term: exprTerm(expr("cores", corev1.NodeSelectorOpGt, "4")), want: true},
		{name: "Gt misses on equal", term: exprTerm(expr("cores", corev1.NodeSelectorOpGt, "8")), want: false},
		{name: "Lt", term: exprTerm(expr("cores", corev1.NodeSelectorOpLt, "16")), want: true},
		{name: "Lt misses", term: exprTerm(expr("cores", corev1.NodeSelectorOpLt, "8")), want: false},
		{name: "Gt on a non-numeric label misses", term: exprTerm(expr("zone", corev1.NodeSelectorOpGt, "1")), want: false},
		{name: "Gt on a missing label misses", term: exprTerm(expr("rack", corev1.NodeSelectorOpGt, "1")), want: false},
		{
			name: "expressions are ANDed",
			term: exprTerm(expr("zone", corev1.NodeSelectorOpIn, "a"), expr("gpu", corev1.NodeSelectorOpDoesNotExist)),
			want: false,
		},
		{name: "metadata.name In", term: fieldTerm(expr("metadata.name", corev1.NodeSelectorOpIn, "n1")), want: true},
		{name: "metadata.name In misses", term: fieldTerm(expr("metadata.name", corev1.NodeSelectorOpIn, "n2")), want: false},
		{name: "metadata.name NotIn", term: fieldTerm(expr("metadata.name", corev1.NodeSelectorOpNotIn, "n2")), want: true},
		{name: "metadata.name NotIn misses", term: fieldTerm(expr("metadata.name", corev1.NodeSelectorOpNotIn, "n1")), want: false},
		{
			name: "fields and expressions are ANDed",
			term: corev1.NodeSelectorTerm{
				MatchExpressions: []corev1.NodeSelectorRequirement{expr("zone", corev1.NodeSelectorOpIn, "b")},
				MatchFields:      []corev1.NodeSelectorRequirement{expr("metadata.name", corev1.NodeSelectorOpIn, "n1")},
			},
			want: false,
		},
		{name: "Gt with two values is invalid", term: exprTerm(expr("cores", corev1.NodeSelectorOpGt, "1", "2")), wantErr: true},
		{name: "Gt with a non-integer is invalid", term: exprTerm(expr("cores", corev1.NodeSelectorOpGt, "x")), wantErr: true},
		{name: "Exists with values is invalid", term: exprTerm(expr("gpu", corev1.NodeSelectorOpExists, "x")), wantErr: true},
		{name: "In without values is invalid", term: exprTerm(expr("zone", corev1.NodeSelectorOpIn)), wantErr: true},
		{name: "unknown operator is invalid", term: exprTerm(expr("zone", "Near", "a")), wantErr: true},
		{name: "invalid label key", term: exprTerm(expr("a b", corev1.NodeSelectorOpExists)), wantErr: true},
		{name: "other field is invalid", term: fieldTerm(expr("spec.podCIDR", corev1.NodeSelectorOpIn, "x")), wantErr: true},
		{name: "field with two values is invalid", term: fieldTerm(expr("metadata.name", corev1.NodeSelectorOpIn, "n1", "n2")), wantErr: true},
		{name: "field with Exists is invalid", term: fieldTerm(expr("metadata.name", corev1.NodeSelectorOpExists, "n1")), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parsed, ok, err := parseTerm(&tt.term)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseTerm error = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if !ok {
				t.Fatal("parseTerm reported an empty term")
			}
			if got := parsed.matches(labeled); got != tt.want {
				t.Errorf("matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEmptyTerm(t *testing.T) {
	if _, ok, err := parseTerm(&corev1.NodeSelectorTerm{}); ok || err != nil {
		t.Errorf("parseTerm(empty) = ok %v, err %v; want not ok, no error", ok, err)
	}
}

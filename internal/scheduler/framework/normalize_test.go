package framework

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeScores(t *testing.T) {
	tests := []struct {
		name    string
		in      []int64
		reverse bool
		want    []int64
	}{
		{name: "scaled by the highest", in: []int64{0, 1, 2, 4}, want: []int64{0, 25, 50, 100}},
		{name: "all zero stay zero", in: []int64{0, 0}, want: []int64{0, 0}},
		{name: "reversed", in: []int64{0, 1, 2, 4}, reverse: true, want: []int64{100, 75, 50, 0}},
		{name: "reversed all zero are all best", in: []int64{0, 0}, reverse: true, want: []int64{100, 100}},
		{name: "rounds down", in: []int64{1, 3}, want: []int64{33, 100}},
		{name: "empty", in: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var scores []NodeScore
			for i, s := range tt.in {
				scores = append(scores, NodeScore{Name: string(rune('a' + i)), Score: s})
			}
			NormalizeScores(scores, tt.reverse)
			var got []int64
			for _, s := range scores {
				got = append(got, s.Score)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("scores (-want +got):\n%s", diff)
			}
		})
	}
}

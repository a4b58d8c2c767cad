package framework

// NormalizeScores scales scores in place onto [MinNodeScore,
// MaxNodeScore] by the highest one: the highest gets MaxNodeScore and the
// others their share of it. With reverse, lower is better: the result is
// MaxNodeScore minus that share. When no score is above zero there is
// nothing to scale by: scores stay as they are, or, with reverse, all
// become MaxNodeScore (every node is equally good).
func NormalizeScores(scores []NodeScore, reverse bool) {
	var highest int64
	for _, s := range scores {
		highest = max(highest, s.Score)
	}
	for i := range scores {
		switch {
		case highest == 0 && reverse:
			scores[i].Score = MaxNodeScore
		case highest == 0:
		case reverse:
			scores[i].Score = MaxNodeScore - scores[i].Score*MaxNodeScore/highest
		default:
			scores[i].Score = scores[i].Score * MaxNodeScore / highest
		}
	}
}

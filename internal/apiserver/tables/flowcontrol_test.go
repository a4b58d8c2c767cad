package tables

import (
	"testing"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
)

func TestFlowSchemaCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"by user, not dangling", &flowcontrolv1.FlowSchema{
			ObjectMeta: om("system-leader-election"),
			Spec: flowcontrolv1.FlowSchemaSpec{
				PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "leader-election"},
				MatchingPrecedence:         100,
				DistinguisherMethod:        &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType},
			},
			Status: flowcontrolv1.FlowSchemaStatus{Conditions: []flowcontrolv1.FlowSchemaCondition{{Type: flowcontrolv1.FlowSchemaConditionDangling, Status: flowcontrolv1.ConditionFalse}}},
		}, []any{"system-leader-election", "leader-election", int64(100), "ByUser", "5m", "False"}},
		{"new", &flowcontrolv1.FlowSchema{
			ObjectMeta: om("exempt"),
			Spec:       flowcontrolv1.FlowSchemaSpec{PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "exempt"}, MatchingPrecedence: 1},
		}, []any{"exempt", "exempt", int64(1), "<none>", "5m", "?"}},
	})
}

func TestPriorityLevelConfigurationCells(t *testing.T) {
	runCellCases(t, []cellCase{
		{"queuing", &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: om("workload-low"), Spec: flowcontrolv1.PriorityLevelConfigurationSpec{
			Type: flowcontrolv1.PriorityLevelEnablementLimited,
			Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
				NominalConcurrencyShares: ptr[int32](100),
				LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue, Queuing: &flowcontrolv1.QueuingConfiguration{
					Queues: 128, HandSize: 6, QueueLengthLimit: 50,
				}},
			},
		}}, []any{"workload-low", "Limited", int64(100), int64(128), int64(6), int64(50), "5m"}},
		{"rejecting", &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: om("catch-all"), Spec: flowcontrolv1.PriorityLevelConfigurationSpec{
			Type:    flowcontrolv1.PriorityLevelEnablementLimited,
			Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{NominalConcurrencyShares: ptr[int32](5), LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeReject}},
		}}, []any{"catch-all", "Limited", int64(5), "<none>", "<none>", "<none>", "5m"}},
		{"exempt", &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: om("exempt"), Spec: flowcontrolv1.PriorityLevelConfigurationSpec{
			Type: flowcontrolv1.PriorityLevelEnablementExempt, Exempt: &flowcontrolv1.ExemptPriorityLevelConfiguration{},
		}}, []any{"exempt", "Exempt", "<none>", "<none>", "<none>", "<none>", "5m"}},
	})
}

package tables

import (
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
)

// flowcontrolPrinters are the printers of API priority and fairness.
func flowcontrolPrinters() []*printer {
	gv := flowcontrolv1.SchemeGroupVersion
	return []*printer{
		typed(gv.WithKind("FlowSchema"), flowSchemaColumns, flowSchemaCells),
		typed(gv.WithKind("PriorityLevelConfiguration"), priorityLevelColumns, priorityLevelCells),
	}
}

var flowSchemaSpecDoc = flowcontrolv1.FlowSchemaSpec{}.SwaggerDoc()

var flowSchemaColumns = columns(
	nameColumn(),
	strCol("PriorityLevel", flowSchemaSpecDoc["priorityLevelConfiguration"]),
	intCol("MatchingPrecedence", flowSchemaSpecDoc["matchingPrecedence"]),
	strCol("DistinguisherMethod", flowSchemaSpecDoc["distinguisherMethod"]),
	ageColumn(),
	strCol("MissingPL", "references a broken or non-existent PriorityLevelConfiguration"),
)

// flowSchemaCells shows MISSINGPL as the status of the Dangling condition,
// "?" until the controller has set it.
func flowSchemaCells(fs *flowcontrolv1.FlowSchema, now time.Time) []any {
	distinguisher := "<none>"
	if fs.Spec.DistinguisherMethod != nil {
		distinguisher = string(fs.Spec.DistinguisherMethod.Type)
	}
	missing := "?"
	for _, c := range fs.Status.Conditions {
		if c.Type == flowcontrolv1.FlowSchemaConditionDangling {
			missing = string(c.Status)
			break
		}
	}
	return []any{
		fs.Name,
		fs.Spec.PriorityLevelConfiguration.Name,
		int64(fs.Spec.MatchingPrecedence),
		distinguisher,
		ageSince(fs.CreationTimestamp, now),
		missing,
	}
}

var priorityLevelColumns = columns(
	nameColumn(),
	strCol("Type", flowcontrolv1.PriorityLevelConfigurationSpec{}.SwaggerDoc()["type"]),
	strCol("NominalConcurrencyShares", flowcontrolv1.LimitedPriorityLevelConfiguration{}.SwaggerDoc()["nominalConcurrencyShares"]),
	strCol("Queues", flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["queues"]),
	strCol("HandSize", flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["handSize"]),
	strCol("QueueLengthLimit", flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["queueLengthLimit"]),
	ageColumn(),
)

// priorityLevelCells shows the numbers of a limited level that queues;
// "<none>" where a level has no such number (exempt, or rejecting).
func priorityLevelCells(pl *flowcontrolv1.PriorityLevelConfiguration, now time.Time) []any {
	var shares, queues, handSize, queueLength any = "<none>", "<none>", "<none>", "<none>"
	if l := pl.Spec.Limited; l != nil {
		if l.NominalConcurrencyShares != nil {
			shares = int64(*l.NominalConcurrencyShares)
		}
		if q := l.LimitResponse.Queuing; q != nil {
			queues, handSize, queueLength = int64(q.Queues), int64(q.HandSize), int64(q.QueueLengthLimit)
		}
	}
	return []any{pl.Name, string(pl.Spec.Type), shares, queues, handSize, queueLength, ageSince(pl.CreationTimestamp, now)}
}

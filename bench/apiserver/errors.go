package main

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

// errorLog counts the errors a target returned under load, by phase and
// kind, keeping the first message of each kind.
type errorLog struct {
	mu     sync.Mutex
	counts map[string]int
	sample map[string]string
}

func newErrorLog() *errorLog {
	return &errorLog{counts: map[string]int{}, sample: map[string]string{}}
}

// add records err, returned during phase.
func (l *errorLog) add(phase string, err error) {
	kind := "error"
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		s := status.Status()
		kind = fmt.Sprintf("%d %s", s.Code, s.Reason)
	}
	key := phase + ": " + kind
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[key]++
	if _, ok := l.sample[key]; !ok {
		l.sample[key] = msg
	}
}

// total is the number of errors recorded.
func (l *errorLog) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.counts {
		n += c
	}
	return n
}

// print lists each kind with its count and first message.
func (l *errorLog) print(p *benchkit.Printer, target string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.counts))
	for k := range l.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p.Printf("  %s, %s: %d× e.g. %s\n", target, k, l.counts[k], l.sample[k])
	}
}

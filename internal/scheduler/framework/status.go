package framework

import (
	"errors"
	"strings"
)

// Code is the outcome of a plugin call.
type Code int

// The codes a plugin may return, with the Kubernetes framework's meaning.
const (
	// Success: the pod may go on (fits this node, scored, bound…).
	Success Code = iota
	// Error: an internal failure; the pod is retried with back-off.
	Error
	// Unschedulable: the pod does not fit now, and preemption might help.
	Unschedulable
	// UnschedulableAndUnresolvable: the pod does not fit and preempting
	// pods on this node cannot change that.
	UnschedulableAndUnresolvable
	// Wait: a permit plugin holds the pod before binding.
	Wait
	// Skip: the plugin has nothing to do for this pod (pre-filter and
	// pre-score); its filter or score is then not called.
	Skip
)

var codeNames = [...]string{"Success", "Error", "Unschedulable", "UnschedulableAndUnresolvable", "Wait", "Skip"}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "Unknown"
}

// Status is what a plugin reports. A nil *Status means Success.
type Status struct {
	code    Code
	reasons []string
	err     error
	plugin  string
}

// NewStatus returns a status with code and the reasons kubectl shows
// (for example "Insufficient cpu").
func NewStatus(code Code, reasons ...string) *Status {
	s := &Status{code: code, reasons: reasons}
	if code == Error {
		s.err = errors.New(strings.Join(reasons, ", "))
	}
	return s
}

// AsStatus wraps an internal error as an Error status; nil gives nil.
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{code: Error, reasons: []string{err.Error()}, err: err}
}

// Code returns the status code; Success for nil.
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// IsSuccess reports a nil or Success status.
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsSkip reports a Skip status.
func (s *Status) IsSkip() bool { return s.Code() == Skip }

// IsRejected reports whether the pod was found not to fit: Unschedulable
// or UnschedulableAndUnresolvable.
func (s *Status) IsRejected() bool {
	c := s.Code()
	return c == Unschedulable || c == UnschedulableAndUnresolvable
}

// Reasons returns the human-readable reasons.
func (s *Status) Reasons() []string {
	if s == nil {
		return nil
	}
	return s.reasons
}

// Message joins the reasons.
func (s *Status) Message() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.reasons, ", ")
}

// Plugin names the plugin that returned the status, once the runner has
// recorded it.
func (s *Status) Plugin() string {
	if s == nil {
		return ""
	}
	return s.plugin
}

// WithPlugin records which plugin returned s and returns s.
func (s *Status) WithPlugin(name string) *Status {
	if s != nil {
		s.plugin = name
	}
	return s
}

// AsError returns nil for Success and Skip, the internal error for Error,
// and an error carrying the reasons otherwise.
func (s *Status) AsError() error {
	switch {
	case s.IsSuccess() || s.IsSkip():
		return nil
	case s.err != nil:
		return s.err
	default:
		return errors.New(s.Message())
	}
}

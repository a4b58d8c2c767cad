// Package admission is the stage between authorization and storage where
// plugins may change or refuse what is being written. The API server runs
// the chain on every create and update.
package admission

import (
	"context"
	"slices"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Operation is what a request does to an object.
type Operation string

// Operations admission sees.
const (
	Create Operation = "CREATE"
	Update Operation = "UPDATE"
)

// Attributes describe one write.
type Attributes struct {
	Operation   Operation
	Resource    schema.GroupVersionResource
	Subresource string
	Namespace   string
	// Object is the object to be written; plugins may mutate it.
	Object runtime.Object
	// Old is the stored object for updates, nil for creates.
	Old runtime.Object
	// DryRun is set when nothing will be stored: plugins check, but must
	// not record anything (a quota charge) elsewhere.
	DryRun bool
	// Warnings are told to the client (Warning headers), as admission
	// policies' Warn action tells them.
	Warnings []string
}

// Warn adds a warning for the client, once.
func (a *Attributes) Warn(message string) {
	if !slices.Contains(a.Warnings, message) {
		a.Warnings = append(a.Warnings, message)
	}
}

// Plugin changes or refuses a write. Returning an error refuses it; the
// error should be a Kubernetes Status error.
type Plugin interface {
	Admit(ctx context.Context, a *Attributes) error
}

// Chain runs plugins in order and stops at the first refusal.
type Chain []Plugin

// Admit implements Plugin.
func (c Chain) Admit(ctx context.Context, a *Attributes) error {
	for _, p := range c {
		if err := p.Admit(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

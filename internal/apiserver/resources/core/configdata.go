package core

import (
	"context"
	"encoding/json"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

// maxDataSize is the most a ConfigMap or Secret may hold, 1 MiB: both are
// mounted into pods and kept whole in memory.
const maxDataSize = 1 << 20

// configMapStrategy validates config map keys, size and immutability.
type configMapStrategy struct{ registry.DefaultStrategy }

// Validate implements registry.Strategy.
func (configMapStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return wrongType(obj)
	}
	var errs field.ErrorList
	size := 0
	for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
		errs = append(errs, configKey(k, field.NewPath("data").Key(k))...)
		size += len(k) + len(cm.Data[k])
	}
	for _, k := range slices.Sorted(maps.Keys(cm.BinaryData)) {
		p := field.NewPath("binaryData").Key(k)
		errs = append(errs, configKey(k, p)...)
		if _, dup := cm.Data[k]; dup {
			errs = append(errs, field.Invalid(p, k, "duplicate of key present in data"))
		}
		size += len(k) + len(cm.BinaryData[k])
	}
	if size > maxDataSize {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", maxDataSize))
	}
	return errs
}

// ValidateUpdate forbids changing the data of an immutable config map, or
// making it mutable again.
func (s configMapStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	cm, ok := obj.(*corev1.ConfigMap)
	oldCM, ok2 := old.(*corev1.ConfigMap)
	if !ok || !ok2 {
		return wrongType(obj)
	}
	errs := s.Validate(ctx, obj)
	if oldCM.Immutable != nil && *oldCM.Immutable {
		errs = append(errs, immutableData(cm.Immutable, cm.Data, oldCM.Data, cm.BinaryData, oldCM.BinaryData)...)
	}
	return errs
}

// secretStrategy defaults the secret type and validates keys, size, the
// keys each type needs, and immutability.
type secretStrategy struct{ registry.DefaultStrategy }

// Default sets the type to Opaque and moves stringData, a write-only
// convenience, into data.
func (secretStrategy) Default(obj runtime.Object) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return
	}
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	for k, v := range s.StringData {
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

// Validate implements registry.Strategy.
func (secretStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return wrongType(obj)
	}
	var errs field.ErrorList
	size := 0
	for _, k := range slices.Sorted(maps.Keys(s.Data)) {
		errs = append(errs, configKey(k, field.NewPath("data").Key(k))...)
		size += len(s.Data[k])
	}
	if size > maxDataSize {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", maxDataSize))
	}
	return append(errs, validateSecretType(s)...)
}

// secretTypeKeys are the data keys each well-known secret type requires.
var secretTypeKeys = map[corev1.SecretType][]string{
	corev1.SecretTypeDockercfg:        {corev1.DockerConfigKey},
	corev1.SecretTypeDockerConfigJson: {corev1.DockerConfigJsonKey},
	corev1.SecretTypeSSHAuth:          {corev1.SSHAuthPrivateKey},
	corev1.SecretTypeTLS:              {corev1.TLSCertKey, corev1.TLSPrivateKeyKey},
}

func validateSecretType(s *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	for _, k := range secretTypeKeys[s.Type] {
		if _, ok := s.Data[k]; !ok {
			errs = append(errs, field.Required(field.NewPath("data").Key(k), ""))
		}
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockerConfigJson, corev1.SecretTypeDockercfg:
		for _, k := range secretTypeKeys[s.Type] {
			if v, ok := s.Data[k]; ok && !json.Valid(v) {
				errs = append(errs, field.Invalid(field.NewPath("data").Key(k), "<secret contents redacted>", "must be valid JSON"))
			}
		}
	case corev1.SecretTypeBasicAuth:
		_, user := s.Data[corev1.BasicAuthUsernameKey]
		_, pass := s.Data[corev1.BasicAuthPasswordKey]
		if !user && !pass {
			errs = append(errs, field.Required(field.NewPath("data").Key(corev1.BasicAuthUsernameKey), ""))
		}
	}
	return errs
}

// ValidateUpdate keeps the type, and the data of immutable secrets.
func (s secretStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	sec, ok := obj.(*corev1.Secret)
	oldSec, ok2 := old.(*corev1.Secret)
	if !ok || !ok2 {
		return wrongType(obj)
	}
	errs := s.Validate(ctx, obj)
	errs = append(errs, apivalidation.ValidateImmutableField(sec.Type, oldSec.Type, field.NewPath("type"))...)
	if oldSec.Immutable != nil && *oldSec.Immutable {
		errs = append(errs, immutableData(sec.Immutable, sec.Data, oldSec.Data, nil, nil)...)
	}
	return errs
}

// GetAttrs implements registry.Strategy.
func (secretStrategy) GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return nil, nil, errWrongType(obj)
	}
	fs := metaFields(&s.ObjectMeta, true)
	fs["type"] = string(s.Type)
	return labels.Set(s.Labels), fs, nil
}

func configKey(k string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsConfigMapKey(k) {
		errs = append(errs, field.Invalid(p, k, msg))
	}
	return errs
}

// immutableData checks an update of an object that was immutable: it
// stays immutable and its data does not change.
func immutableData(immutable *bool, data, oldData, binary, oldBinary any) field.ErrorList {
	var errs field.ErrorList
	if immutable == nil || !*immutable {
		errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
	}
	if !apiequality.Semantic.DeepEqual(data, oldData) {
		errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
	}
	if !apiequality.Semantic.DeepEqual(binary, oldBinary) {
		errs = append(errs, field.Forbidden(field.NewPath("binaryData"), "field is immutable when `immutable` is set"))
	}
	return errs
}

package tables

import (
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRoleCells(t *testing.T) {
	created := metav1.ObjectMeta{Name: "reader", Namespace: "default", CreationTimestamp: metav1.NewTime(time.Date(2025, 5, 1, 9, 30, 0, 0, time.UTC))}
	runCellCases(t, []cellCase{
		{"role", &rbacv1.Role{ObjectMeta: created}, []any{"reader", "2025-05-01T09:30:00Z"}},
	})
	runCellCases(t, []cellCase{
		{"cluster role", &rbacv1.ClusterRole{ObjectMeta: created}, []any{"reader", "2025-05-01T09:30:00Z"}},
	})
}

func TestRoleBindingCells(t *testing.T) {
	subjects := []rbacv1.Subject{
		{Kind: rbacv1.UserKind, Name: "alice"}, {Kind: rbacv1.UserKind, Name: "bob"},
		{Kind: rbacv1.GroupKind, Name: "devs"},
		{Kind: rbacv1.ServiceAccountKind, Namespace: "ci", Name: "builder"},
	}
	runCellCases(t, []cellCase{
		{"subjects", &rbacv1.RoleBinding{ObjectMeta: om("read"), RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "reader"}, Subjects: subjects},
			[]any{"read", "Role/reader", "5m", "alice, bob", "devs", "ci:builder"}},
		{"no subjects", &rbacv1.RoleBinding{ObjectMeta: om("empty"), RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "view"}},
			[]any{"empty", "ClusterRole/view", "5m", "", "", ""}},
	})
	runCellCases(t, []cellCase{
		{"cluster binding", &rbacv1.ClusterRoleBinding{ObjectMeta: om("admins"), RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: "system:masters"}}},
			[]any{"admins", "ClusterRole/cluster-admin", "5m", "", "system:masters", ""}},
	})
}

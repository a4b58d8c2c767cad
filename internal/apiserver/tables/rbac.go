package tables

import (
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
)

// rbacPrinters are the printers of rbac.authorization.k8s.io.
func rbacPrinters() []*printer {
	gv := rbacv1.SchemeGroupVersion
	createdAtColumns := columns(nameColumn(), createdAtColumn())
	return []*printer{
		typed(gv.WithKind("Role"), createdAtColumns, func(r *rbacv1.Role, _ time.Time) []any {
			return []any{r.Name, createdAt(r.ObjectMeta)}
		}),
		typed(gv.WithKind("ClusterRole"), createdAtColumns, func(r *rbacv1.ClusterRole, _ time.Time) []any {
			return []any{r.Name, createdAt(r.ObjectMeta)}
		}),
		typed(gv.WithKind("RoleBinding"), roleBindingColumns, func(b *rbacv1.RoleBinding, now time.Time) []any {
			return bindingCells(b.Name, b.RoleRef, b.Subjects, ageSince(b.CreationTimestamp, now))
		}),
		typed(gv.WithKind("ClusterRoleBinding"), roleBindingColumns, func(b *rbacv1.ClusterRoleBinding, now time.Time) []any {
			return bindingCells(b.Name, b.RoleRef, b.Subjects, ageSince(b.CreationTimestamp, now))
		}),
	}
}

var roleBindingColumns = columns(
	nameColumn(),
	strCol("Role", rbacv1.RoleBinding{}.SwaggerDoc()["roleRef"]),
	ageColumn(),
	wide(strCol("Users", "Users in the roleBinding")),
	wide(strCol("Groups", "Groups in the roleBinding")),
	wide(strCol("ServiceAccounts", "ServiceAccounts in the roleBinding")),
)

// bindingCells shows the role as Kind/name and the subjects by kind, service
// accounts as namespace:name.
func bindingCells(name string, role rbacv1.RoleRef, subjects []rbacv1.Subject, age string) []any {
	var users, groups, serviceAccounts []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		case rbacv1.ServiceAccountKind:
			serviceAccounts = append(serviceAccounts, s.Namespace+":"+s.Name)
		}
	}
	return []any{
		name, role.Kind + "/" + role.Name, age,
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(serviceAccounts, ", "),
	}
}

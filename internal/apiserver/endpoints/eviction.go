package endpoints

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tugcluster/tug/internal/apiserver/registry"
)

var pdbsGVR = policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets")

// Messages kubectl drain and users see, worded as kube-apiserver words them.
const (
	msgViolatesBudget = "Cannot evict pod as it would violate the pod's disruption budget."
	msgManyBudgets    = "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
	// causeDisruptionBudget is the cause type of a refused eviction.
	causeDisruptionBudget metav1.CauseType = "DisruptionBudget"
	// maxDisruptedPods bounds status.disruptedPods: past it the disruption
	// controller is behind and evictions wait.
	maxDisruptedPods = 2000
)

// serveEviction evicts a pod: POST pods/<name>/eviction with an Eviction.
// The pod is deleted unless that would take its PodDisruptionBudget below
// what it allows; then the answer is 429 and the client (kubectl drain)
// retries.
func (h *Handler) serveEviction(ctx context.Context, w http.ResponseWriter, r *http.Request, info RequestInfo) {
	pods := h.stores[podsGVR]
	if pods == nil || info.Verb != "create" || info.Name == "" {
		h.writeError(w, r, methodNotSupported(schema.GroupResource{Resource: "pods/eviction"}, info.Verb))
		return
	}
	eviction, err := h.decodeEviction(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if eviction.Name != "" && eviction.Name != info.Name {
		h.writeError(w, r, apierrors.NewBadRequest(fmt.Sprintf("name in URL does not match name in Eviction object: %s != %s", info.Name, eviction.Name)))
		return
	}
	opts := eviction.DeleteOptions
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	dryRun := registry.IsDryRun(opts.DryRun) || registry.IsDryRun(r.URL.Query()["dryRun"])
	if err := h.evict(ctx, pods, info.Namespace, info.Name, opts, dryRun); err != nil {
		h.writeError(w, r, err)
		return
	}
	status := &metav1.Status{Status: metav1.StatusSuccess, Code: http.StatusCreated}
	h.respond(w, r, http.StatusCreated, status, schema.GroupVersion{Version: "v1"})
}

// decodeEviction reads a policy/v1 or policy/v1beta1 Eviction; the two
// carry the same fields.
func (h *Handler) decodeEviction(r *http.Request) (*policyv1.Eviction, error) {
	in, err := negotiateInput(r, h.infos)
	if err != nil {
		return nil, err
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	gvk := policyv1.SchemeGroupVersion.WithKind("Eviction")
	obj, _, err := in.Serializer.Decode(body, &gvk, nil)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	switch e := obj.(type) {
	case *policyv1.Eviction:
		return e, nil
	case *policyv1beta1.Eviction:
		return &policyv1.Eviction{ObjectMeta: e.ObjectMeta, DeleteOptions: e.DeleteOptions}, nil
	default:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected an Eviction, got %T", obj))
	}
}

// evict applies the disruption budget, marks the pod as a disruption
// target and deletes it.
func (h *Handler) evict(ctx context.Context, pods *registry.Store, namespace, name string, opts *metav1.DeleteOptions, dryRun bool) error {
	obj, err := pods.Get(ctx, namespace, name, &metav1.GetOptions{})
	if err != nil {
		return err
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return apierrors.NewNotFound(pods.GroupResource(), name)
	}
	if !ignoresBudget(pod) {
		budgets, err := h.budgetsFor(ctx, pod)
		if err != nil {
			return err
		}
		if err := h.takeDisruption(ctx, pod, budgets, dryRun); err != nil {
			return err
		}
	}
	if dryRun {
		return nil
	}
	if err := markDisruptionTarget(ctx, pods, pod, h.clock.Now()); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	opts = opts.DeepCopy()
	if opts.Preconditions == nil {
		// Delete the pod the decision was made for, not a namesake.
		opts.Preconditions = &metav1.Preconditions{UID: &pod.UID}
	}
	_, _, err = pods.Delete(ctx, namespace, name, opts)
	return err
}

// ignoresBudget reports whether the pod can go without asking its budget:
// it does not count as available anyway (terminal, pending) or is already
// going.
func ignoresBudget(pod *corev1.Pod) bool {
	switch {
	case pod.DeletionTimestamp != nil:
		return true
	case pod.Status.Phase == corev1.PodSucceeded, pod.Status.Phase == corev1.PodFailed, pod.Status.Phase == corev1.PodPending:
		return true
	}
	return false
}

// budgetsFor lists the PodDisruptionBudgets of the pod's namespace whose
// selector matches it.
func (h *Handler) budgetsFor(ctx context.Context, pod *corev1.Pod) ([]*policyv1.PodDisruptionBudget, error) {
	store := h.stores[pdbsGVR]
	if store == nil {
		return nil, nil
	}
	list, err := store.List(ctx, pod.Namespace, &metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	pdbs, ok := list.(*policyv1.PodDisruptionBudgetList)
	if !ok {
		return nil, fmt.Errorf("list poddisruptionbudgets: unexpected %T", list)
	}
	var out []*policyv1.PodDisruptionBudget
	for i := range pdbs.Items {
		if selects(&pdbs.Items[i], pod) {
			out = append(out, &pdbs.Items[i])
		}
	}
	return out, nil
}

// selects reports whether pdb covers pod. In policy/v1 an empty selector
// selects every pod of the namespace; a nil one selects none.
func selects(pdb *policyv1.PodDisruptionBudget, pod *corev1.Pod) bool {
	if pdb.Spec.Selector == nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		return false
	}
	return sel.Matches(labels.Set(pod.Labels))
}

// takeDisruption spends one of the budget's allowed disruptions on pod, in
// the same write that records the pod in status.disruptedPods, so two
// evictions never spend the same one.
func (h *Handler) takeDisruption(ctx context.Context, pod *corev1.Pod, budgets []*policyv1.PodDisruptionBudget, dryRun bool) error {
	switch len(budgets) {
	case 0:
		return nil
	case 1:
	default:
		return apierrors.NewInternalError(errors.New(msgManyBudgets)) //nolint:staticcheck // ST1005: kube-apiserver's exact wording
	}
	store := h.stores[pdbsGVR]
	now := h.clock.Now()
	_, _, err := store.Update(ctx, pod.Namespace, budgets[0].Name, func(_ context.Context, current runtime.Object) (runtime.Object, error) {
		pdb, ok := current.(*policyv1.PodDisruptionBudget)
		if !ok || pdb == nil {
			return nil, apierrors.NewNotFound(store.GroupResource(), budgets[0].Name)
		}
		return spendDisruption(pdb.DeepCopy(), pod, now)
	}, registry.UpdateOptions{DryRun: dryRun, Subresource: "status"})
	if errors.Is(err, errNoSpend) {
		return nil
	}
	return err
}

// errNoSpend tells takeDisruption that the eviction is allowed without
// touching the budget.
var errNoSpend = errors.New("eviction allowed without spending a disruption")

// spendDisruption decides an eviction against pdb (which it may modify):
// it returns the budget to store, errNoSpend when the eviction needs no
// budget, or the refusal.
func spendDisruption(pdb *policyv1.PodDisruptionBudget, pod *corev1.Pod, now time.Time) (*policyv1.PodDisruptionBudget, error) {
	if !podReady(pod) {
		// An unready pod does not count towards the budget: it may go when
		// the policy says so, or when the budget is met without it.
		if pdb.Spec.UnhealthyPodEvictionPolicy != nil && *pdb.Spec.UnhealthyPodEvictionPolicy == policyv1.AlwaysAllow {
			return nil, errNoSpend
		}
		if pdb.Status.ObservedGeneration >= pdb.Generation && pdb.Status.CurrentHealthy >= pdb.Status.DesiredHealthy && pdb.Status.DesiredHealthy > 0 {
			return nil, errNoSpend
		}
	}
	if pdb.Status.ObservedGeneration < pdb.Generation {
		return nil, tooManyRequests(fmt.Sprintf("The disruption budget %s is still being processed by the server.", pdb.Name))
	}
	if pdb.Status.DisruptionsAllowed < 0 {
		return nil, apierrors.NewForbidden(policyv1.Resource("poddisruptionbudget"), pdb.Name, errors.New("pdb disruptions allowed is negative"))
	}
	if len(pdb.Status.DisruptedPods) > maxDisruptedPods {
		return nil, apierrors.NewForbidden(policyv1.Resource("poddisruptionbudget"), pdb.Name, errors.New("DisruptedPods map too big - too many evictions not confirmed by PDB controller"))
	}
	if pdb.Status.DisruptionsAllowed == 0 {
		return nil, tooManyRequests(fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently",
			pdb.Name, pdb.Status.DesiredHealthy, pdb.Status.CurrentHealthy))
	}
	pdb.Status.DisruptionsAllowed--
	if pdb.Status.DisruptionsAllowed == 0 {
		setCondition(pdb, metav1.ConditionFalse, policyv1.InsufficientPodsReason, now)
	}
	if pdb.Status.DisruptedPods == nil {
		pdb.Status.DisruptedPods = map[string]metav1.Time{}
	}
	pdb.Status.DisruptedPods[pod.Name] = metav1.NewTime(now)
	return pdb, nil
}

// tooManyRequests is the 429 refusal whose cause names the budget.
func tooManyRequests(cause string) error {
	err := apierrors.NewTooManyRequests(msgViolatesBudget, 0)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes,
		metav1.StatusCause{Type: causeDisruptionBudget, Message: cause})
	return err
}

// setCondition sets the DisruptionAllowed condition of pdb.
func setCondition(pdb *policyv1.PodDisruptionBudget, status metav1.ConditionStatus, reason string, now time.Time) {
	cond := metav1.Condition{Type: policyv1.DisruptionAllowedCondition, Status: status, Reason: reason,
		ObservedGeneration: pdb.Status.ObservedGeneration, LastTransitionTime: metav1.NewTime(now)}
	for i := range pdb.Status.Conditions {
		if pdb.Status.Conditions[i].Type == cond.Type {
			if pdb.Status.Conditions[i].Status == status {
				cond.LastTransitionTime = pdb.Status.Conditions[i].LastTransitionTime
			}
			pdb.Status.Conditions[i] = cond
			return
		}
	}
	pdb.Status.Conditions = append(pdb.Status.Conditions, cond)
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// markDisruptionTarget records on the pod why it is going, as the
// DisruptionTarget condition.
func markDisruptionTarget(ctx context.Context, pods *registry.Store, pod *corev1.Pod, now time.Time) error {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil
	}
	_, _, err := pods.Update(ctx, pod.Namespace, pod.Name, func(_ context.Context, current runtime.Object) (runtime.Object, error) {
		cur, ok := current.(*corev1.Pod)
		if !ok || cur == nil || cur.UID != pod.UID {
			return nil, apierrors.NewNotFound(pods.GroupResource(), pod.Name)
		}
		out := cur.DeepCopy()
		cond := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
			Reason: "EvictionByEvictionAPI", Message: "Eviction API: evicting", LastTransitionTime: metav1.NewTime(now)}
		for i := range out.Status.Conditions {
			if out.Status.Conditions[i].Type == cond.Type {
				out.Status.Conditions[i] = cond
				return out, nil
			}
		}
		out.Status.Conditions = append(out.Status.Conditions, cond)
		return out, nil
	}, registry.UpdateOptions{Subresource: "status"})
	return err
}

// Package plugins lists tug's scheduler plugins: the registry of their
// factories and the default profile that says where each runs.
package plugins

import (
	"github.com/tugcluster/tug/internal/scheduler/plugins/defaultbinder"
	"github.com/tugcluster/tug/internal/scheduler/plugins/defaultpreemption"
	"github.com/tugcluster/tug/internal/scheduler/plugins/imagelocality"
	"github.com/tugcluster/tug/internal/scheduler/plugins/interpodaffinity"
	"github.com/tugcluster/tug/internal/scheduler/plugins/nodeaffinity"
	"github.com/tugcluster/tug/internal/scheduler/plugins/nodename"
	"github.com/tugcluster/tug/internal/scheduler/plugins/nodeports"
	"github.com/tugcluster/tug/internal/scheduler/plugins/noderesources"
	"github.com/tugcluster/tug/internal/scheduler/plugins/nodeunschedulable"
	"github.com/tugcluster/tug/internal/scheduler/plugins/podtopologyspread"
	"github.com/tugcluster/tug/internal/scheduler/plugins/tainttoleration"
	"github.com/tugcluster/tug/internal/scheduler/runtime"
)

// Registry returns every built-in plugin by name.
func Registry() runtime.Registry {
	return runtime.Registry{
		nodeunschedulable.Name:               nodeunschedulable.New,
		nodename.Name:                        nodename.New,
		tainttoleration.Name:                 tainttoleration.New,
		nodeaffinity.Name:                    nodeaffinity.New,
		nodeports.Name:                       nodeports.New,
		noderesources.FitName:                noderesources.NewFit,
		noderesources.BalancedAllocationName: noderesources.NewBalancedAllocation,
		podtopologyspread.Name:               podtopologyspread.New,
		interpodaffinity.Name:                interpodaffinity.New,
		imagelocality.Name:                   imagelocality.New,
		defaultpreemption.Name:               defaultpreemption.New,
		defaultbinder.Name:                   defaultbinder.New,
	}
}

// DefaultProfile is kube-scheduler's default profile for the plugins tug
// has: the same plugins at the same extension points, in the same order
// (the first filter to reject a node gives its reason), with the same
// score weights. The scheduler sets SchedulerName.
func DefaultProfile() runtime.Profile {
	return runtime.Profile{
		PreFilter: []string{
			nodeaffinity.Name,
			nodeports.Name,
			noderesources.FitName,
			podtopologyspread.Name,
			interpodaffinity.Name,
		},
		Filter: []string{
			nodeunschedulable.Name,
			nodename.Name,
			tainttoleration.Name,
			nodeaffinity.Name,
			nodeports.Name,
			noderesources.FitName,
			podtopologyspread.Name,
			interpodaffinity.Name,
		},
		PostFilter: []string{defaultpreemption.Name},
		PreScore: []string{
			tainttoleration.Name,
			nodeaffinity.Name,
			noderesources.FitName,
			podtopologyspread.Name,
			interpodaffinity.Name,
			noderesources.BalancedAllocationName,
			imagelocality.Name,
		},
		Score: []runtime.WeightedPlugin{
			{Name: tainttoleration.Name, Weight: 3},
			{Name: nodeaffinity.Name, Weight: 2},
			{Name: noderesources.FitName, Weight: 1},
			{Name: podtopologyspread.Name, Weight: 2},
			{Name: interpodaffinity.Name, Weight: 2},
			{Name: noderesources.BalancedAllocationName, Weight: 1},
			{Name: imagelocality.Name, Weight: 1},
		},
		Bind: []string{defaultbinder.Name},
	}
}

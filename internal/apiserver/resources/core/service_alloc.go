package core

import (
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// carryAllocations copies into spec the cluster IP and node ports of old
// that spec leaves unset but still needs.
func carryAllocations(spec, old *corev1.ServiceSpec) {
	if needsClusterIP(old) && needsClusterIP(spec) && spec.ClusterIP == "" && len(spec.ClusterIPs) == 0 {
		spec.ClusterIP, spec.ClusterIPs = old.ClusterIP, append([]string(nil), old.ClusterIPs...)
	}
	if spec.Type == corev1.ServiceTypeExternalName && old.Type != corev1.ServiceTypeExternalName && spec.ClusterIP == old.ClusterIP {
		// Becoming an alias gives the address up; clients need not clear it.
		spec.ClusterIP, spec.ClusterIPs = "", nil
	}
	switch {
	case needsNodePorts(old) && needsNodePorts(spec):
		for i := range spec.Ports {
			p := &spec.Ports[i]
			if p.NodePort != 0 {
				continue
			}
			for _, o := range old.Ports {
				if o.Port == p.Port && (o.Protocol == p.Protocol || p.Protocol == "") {
					p.NodePort = o.NodePort
					break
				}
			}
		}
	case needsNodePorts(old):
		// Leaving NodePort or LoadBalancer gives the node ports up.
		for i := range spec.Ports {
			for _, o := range old.Ports {
				if spec.Ports[i].NodePort == o.NodePort {
					spec.Ports[i].NodePort = 0
				}
			}
		}
	}
	if needsHealthCheckPort(old) && needsHealthCheckPort(spec) && spec.HealthCheckNodePort == 0 {
		spec.HealthCheckNodePort = old.HealthCheckNodePort
	}
}

// allocate takes the cluster IP and node ports svc asks for and picks free
// ones for those it leaves unset. What the service already holds (on
// update, or on a retried write) it keeps. On error nothing newly taken is
// kept.
func (s *serviceStrategy) allocate(svc *corev1.Service) field.ErrorList {
	a := s.alloc
	a.mu.Lock()
	defer a.mu.Unlock()
	owner := serviceKey(svc)
	var errs field.ErrorList
	var newIPs []netip.Addr
	var newPorts []int
	spec := &svc.Spec
	specPath := field.NewPath("spec")

	if needsClusterIP(spec) {
		if spec.ClusterIP == "" {
			ip, err := a.nextIP(owner)
			if err != nil {
				errs = append(errs, field.InternalError(specPath.Child("clusterIPs"), fmt.Errorf("failed to allocate a service IP: %w", err)))
			} else {
				newIPs = append(newIPs, ip)
				spec.ClusterIP, spec.ClusterIPs = ip.String(), []string{ip.String()}
			}
		} else if ip, err := netip.ParseAddr(spec.ClusterIP); err == nil {
			taken, err := a.takeIP(ip, owner, false)
			if err != nil {
				errs = append(errs, field.Invalid(specPath.Child("clusterIPs"), spec.ClusterIPs,
					fmt.Sprintf("failed to allocate IP %s: %s", ip, s.ipMessage(err))))
			} else if taken {
				newIPs = append(newIPs, ip)
			}
		}
	}

	byPort := map[int32]int32{} // service port → node port, shared across protocols
	if needsNodePorts(spec) {
		for i := range spec.Ports {
			p := &spec.Ports[i]
			if p.NodePort == 0 {
				p.NodePort = byPort[p.Port]
			}
			port, taken, err := s.takeNodePort(int(p.NodePort), owner)
			if err != nil {
				errs = append(errs, s.portError(specPath.Child("ports").Index(i).Child("nodePort"), p.NodePort, err))
				continue
			}
			p.NodePort = int32(port)
			byPort[p.Port] = p.NodePort
			if taken {
				newPorts = append(newPorts, port)
			}
		}
	}
	if needsHealthCheckPort(spec) {
		port, taken, err := s.takeNodePort(int(spec.HealthCheckNodePort), owner)
		if err != nil {
			errs = append(errs, s.portError(specPath.Child("healthCheckNodePort"), spec.HealthCheckNodePort, err))
		} else {
			spec.HealthCheckNodePort = int32(port)
			if taken {
				newPorts = append(newPorts, port)
			}
		}
	}

	if len(errs) > 0 {
		for _, ip := range newIPs {
			if off, ok := a.ipOffset(ip); ok {
				a.ips.release(off, owner)
			}
		}
		for _, p := range newPorts {
			a.ports.release(p-a.portBase, owner)
		}
	}
	return errs
}

// takeNodePort takes port for owner, or a free one when port is 0.
func (s *serviceStrategy) takeNodePort(port int, owner string) (int, bool, error) {
	if port == 0 {
		p, err := s.alloc.nextPort(owner)
		return p, err == nil, err
	}
	taken, err := s.alloc.takePort(port, owner, false)
	return port, taken, err
}

func (s *serviceStrategy) ipMessage(err error) string {
	if errors.Is(err, errOutOfRange) {
		return fmt.Sprintf("provided IP is not in the valid range. The range of valid IPs is %s", s.alloc.CIDR())
	}
	return err.Error()
}

func (s *serviceStrategy) portError(path *field.Path, port int32, err error) *field.Error {
	switch {
	case errors.Is(err, errRangeFull):
		return field.InternalError(path, fmt.Errorf("failed to allocate a node port: %w", err))
	case errors.Is(err, errOutOfRange):
		last := s.alloc.portBase + s.alloc.ports.size - 1
		return field.Invalid(path, port, fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %d-%d", s.alloc.portBase, last))
	default:
		return field.Invalid(path, port, err.Error())
	}
}

package etcd

import (
	"context"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// leaseReusePercent caps the extra life a shared lease gives a key at this
// share of its TTL, so short TTLs stay accurate.
const leaseReusePercent = 5

// leaseManager hands out leases for TTL writes. A lease granted for a TTL
// is reused by later writes with the same TTL for a while, and granted for
// that much longer, so that a stream of writes with a TTL costs a few
// leases rather than one each.
type leaseManager struct {
	client *clientv3.Client
	reuse  time.Duration
	now    func() time.Time

	mu     sync.Mutex
	leases map[int64]grantedLease // by requested TTL in seconds
}

type grantedLease struct {
	id      clientv3.LeaseID
	granted time.Time
	window  time.Duration // how long after granted it is handed out
}

func newLeaseManager(client *clientv3.Client, reuse time.Duration) *leaseManager {
	return &leaseManager{client: client, reuse: reuse, now: time.Now, leases: map[int64]grantedLease{}}
}

// get returns a lease that keeps a key for at least ttl.
func (m *leaseManager) get(ctx context.Context, ttl time.Duration) (clientv3.LeaseID, error) {
	secs := int64((ttl + time.Second - 1) / time.Second)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.leases[secs]; ok && now.Sub(l.granted) < l.window {
		return l.id, nil
	}
	window := min(m.reuse, time.Duration(secs)*time.Second*leaseReusePercent/100).Truncate(time.Second)
	resp, err := m.client.Grant(ctx, secs+int64(window/time.Second))
	if err != nil {
		return 0, err
	}
	for k, l := range m.leases {
		if now.Sub(l.granted) >= l.window {
			delete(m.leases, k)
		}
	}
	if window > 0 {
		m.leases[secs] = grantedLease{id: resp.ID, granted: now, window: window}
	}
	return resp.ID, nil
}

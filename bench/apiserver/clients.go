package main

import (
	"net"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// newClient returns a typed clientset on a connection of its own, without
// client-side rate limiting. client-go shares one transport, and so one
// HTTP/2 connection, between configs that look alike; a dial function of
// its own keeps this one apart, as a separate client process would be.
func newClient(base *rest.Config) (*kubernetes.Clientset, error) {
	c := rest.CopyConfig(base)
	c.QPS, c.Burst = -1, 0 // a negative QPS disables the rate limiter
	c.UserAgent = "tug-bench/apiserver"
	c.Dial = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return kubernetes.NewForConfig(c)
}

// newClients returns n clientsets, each on its own connection.
func newClients(base *rest.Config, n int) ([]*kubernetes.Clientset, error) {
	cs := make([]*kubernetes.Clientset, n)
	for i := range cs {
		var err error
		if cs[i], err = newClient(base); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

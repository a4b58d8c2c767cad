package pki

import (
	"net"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{name: "minimal", opts: Options{Dir: "/d"}},
		{name: "full", opts: Options{Dir: "/d", ServiceIP: net.ParseIP("10.96.0.1"), ClusterDomain: "corp.example",
			ExtraSANs: []string{"tug.example.com", "*.tug.example.com", "192.0.2.1", "2001:db8::1", "UPPER.example.com"}}},
		{name: "IPv6 service IP", opts: Options{Dir: "/d", ServiceIP: net.ParseIP("fd00:43::1")}},
		{name: "no dir", opts: Options{}, wantErr: true},
		{name: "unspecified service IP", opts: Options{Dir: "/d", ServiceIP: net.IPv4zero}, wantErr: true},
		{name: "malformed service IP", opts: Options{Dir: "/d", ServiceIP: net.IP{1, 2, 3}}, wantErr: true},
		{name: "bad cluster domain", opts: Options{Dir: "/d", ClusterDomain: "cluster_local"}, wantErr: true},
		{name: "empty extra SAN", opts: Options{Dir: "/d", ExtraSANs: []string{""}}, wantErr: true},
		{name: "extra SAN with space", opts: Options{Dir: "/d", ExtraSANs: []string{"a b"}}, wantErr: true},
		{name: "extra SAN URL", opts: Options{Dir: "/d", ExtraSANs: []string{"https://tug.example.com"}}, wantErr: true},
		{name: "wildcard in the middle", opts: Options{Dir: "/d", ExtraSANs: []string{"a.*.example.com"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		wantIP     string
		wantDomain string
	}{
		{name: "zero", opts: Options{Dir: "/d"}, wantIP: "10.43.0.1", wantDomain: "cluster.local"},
		{name: "set", opts: Options{Dir: "/d", ServiceIP: net.ParseIP("10.96.0.1"), ClusterDomain: "corp.example"},
			wantIP: "10.96.0.1", wantDomain: "corp.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.opts.withDefaults()
			if got.ServiceIP.String() != tt.wantIP || got.ClusterDomain != tt.wantDomain || got.Dir != tt.opts.Dir {
				t.Errorf("withDefaults() = %+v, want ServiceIP %s, ClusterDomain %s", got, tt.wantIP, tt.wantDomain)
			}
		})
	}
}

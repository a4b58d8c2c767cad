package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/tugcluster/tug/internal/storage"
	"github.com/tugcluster/tug/internal/storage/bolt"
	"github.com/tugcluster/tug/internal/storage/etcd"
	"github.com/tugcluster/tug/internal/storage/etcd/etcdtest"
)

// Target names, as -only takes them.
const (
	targetBolt = "bolt"
	targetEtcd = "etcd"
)

// target is one backend under test.
type target struct {
	name    string
	backend storage.Backend
	dir     string // data directory, on the disk measured
	pid     int    // process holding the data
	close   func() error
}

// openBolt opens tug's bolt backend in a new directory under parent.
func openBolt(parent string) (*target, error) {
	dir, err := os.MkdirTemp(parent, "tug-bench-bolt-")
	if err != nil {
		return nil, err
	}
	be, err := bolt.Open(bolt.Options{Dir: filepath.Join(dir, "db")})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("open bolt: %w", err)
	}
	return &target{
		name:    targetBolt,
		backend: be,
		dir:     dir,
		pid:     os.Getpid(),
		close: func() error {
			err := be.Close()
			if rerr := os.RemoveAll(dir); err == nil {
				err = rerr
			}
			return err
		},
	}, nil
}

// startEtcd starts an etcd server with its data in a new directory under
// parent and connects the etcd backend to it.
func startEtcd(ctx context.Context, parent, binary string) (*target, error) {
	dir, err := os.MkdirTemp(parent, "tug-bench-etcd-")
	if err != nil {
		return nil, err
	}
	srv, err := etcdtest.Start(ctx, etcdtest.Options{Binary: binary, Dir: dir})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	cli, be, err := connectEtcd(srv)
	if err != nil {
		_ = srv.Stop()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return &target{
		name:    targetEtcd,
		backend: be,
		dir:     dir,
		pid:     srv.PID,
		close: func() error {
			err := be.Close()
			_ = cli.Close()
			if serr := srv.Stop(); err == nil {
				err = serr
			}
			if rerr := os.RemoveAll(dir); err == nil {
				err = rerr
			}
			return err
		},
	}, nil
}

func connectEtcd(srv *etcdtest.Server) (*clientv3.Client, *etcd.Backend, error) {
	cli, err := srv.Client()
	if err != nil {
		return nil, nil, err
	}
	be, err := etcd.New(cli, etcd.Options{})
	if err != nil {
		_ = cli.Close()
		return nil, nil, err
	}
	return cli, be, nil
}

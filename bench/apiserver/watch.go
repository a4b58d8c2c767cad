package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/encoding/protowire"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tugcluster/tug/bench/internal/benchkit"
)

const (
	// watchPods is how many pods of the watched namespace the updates go
	// round.
	watchPods = 10
	// watchersPerConn is how many watches share one client connection.
	watchersPerConn = 10
	// seqAnnotation carries an update's sequence number, so a watcher can
	// tell which update an event is without decoding the pod.
	seqAnnotation = "bench.tug.dev/seq"
	// drainTimeout is how long the watchers may take, after the last
	// update's ack, to receive everything.
	drainTimeout = 30 * time.Second
)

// watchResult is the outcome of the fan-out phase.
type watchResult struct {
	updateRate float64            // updates/s the single writer achieved
	eventRate  float64            // events/s delivered, summed over watchers
	fromAck    benchkit.Latencies // delivery after the update's ack (early events count 0)
	missed     int64              // events never delivered
	rewatches  int64              // streams that ended early and were reopened
}

// fanOut opens watchers watches on the pods of one namespace, makes
// updates updates to those pods one at a time, and measures how the events
// reach every watcher. sample is called once the updates are done, while
// the watches are still open.
func fanOut(ctx context.Context, cfg *rest.Config, watchers, updates int, errs *errorLog, sample func()) (watchResult, error) {
	var res watchResult
	writer, err := newClient(cfg)
	if err != nil {
		return res, err
	}
	if err := ensureNamespace(ctx, writer, watchNamespace); err != nil {
		return res, err
	}
	pods := make([]*corev1.Pod, watchPods)
	for i := range pods {
		var err error
		if pods[i], err = createPod(ctx, writer, newPod(watchNamespace, fmt.Sprintf("watched-%d", i)), errs, "watch setup"); err != nil {
			return res, err
		}
	}
	list, err := writer.CoreV1().Pods(watchNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return res, err
	}
	f := &fanout{
		updates: updates,
		ackAt:   make([]atomic.Int64, updates),
		ackRV:   make([]atomic.Pointer[string], updates),
		startRV: list.ResourceVersion,
		base:    time.Now(),
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conns := (watchers + watchersPerConn - 1) / watchersPerConn
	clients, err := newClients(cfg, conns)
	if err != nil {
		return res, err
	}
	ws := make([]*watcher, watchers)
	var open errgroup.Group
	open.SetLimit(32)
	for i := range ws {
		ws[i] = &watcher{f: f, client: clients[i/watchersPerConn], recv: make([]int64, updates)}
		open.Go(func() error { return ws[i].open(ctx, f.startRV) })
	}
	if err := open.Wait(); err != nil {
		return res, fmt.Errorf("open watches: %w", err)
	}
	var readers sync.WaitGroup
	for _, w := range ws {
		readers.Go(func() { w.read(ctx, errs) })
	}
	// On every return the readers are stopped and waited for.
	defer readers.Wait()
	defer cancel()

	// One writer, each update waiting for the previous one's ack.
	start := time.Now()
	for i := range updates {
		pod := pods[i%watchPods]
		pod.Annotations[seqAnnotation] = strconv.Itoa(i)
		out, err := writer.CoreV1().Pods(watchNamespace).Update(ctx, pod, metav1.UpdateOptions{})
		if err != nil {
			return res, fmt.Errorf("update %d: %w", i, err)
		}
		f.ackAt[i].Store(int64(time.Since(f.base)))
		rv := out.ResourceVersion
		f.ackRV[i].Store(&rv)
		pods[i%watchPods] = out
	}
	res.updateRate = float64(updates) / time.Since(start).Seconds()
	sample()

	done := make(chan struct{})
	go func() { readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drainTimeout):
		cancel()
		<-done
	}
	res.rewatches = f.rewatches.Load()
	var ds []time.Duration
	var last int64
	for _, w := range ws {
		for seq, at := range w.recv {
			if at == 0 {
				res.missed++
				continue
			}
			last = max(last, at)
			ds = append(ds, max(0, time.Duration(at-f.ackAt[seq].Load())))
		}
	}
	res.fromAck = benchkit.Summarize(ds)
	if elapsed := time.Duration(last) - start.Sub(f.base); elapsed > 0 {
		res.eventRate = float64(len(ds)) / elapsed.Seconds()
	}
	return res, nil
}

// fanout is the state the writer shares with the watchers.
type fanout struct {
	updates   int
	ackAt     []atomic.Int64           // per update: ack time since base, 0 until acked
	ackRV     []atomic.Pointer[string] // per update: resourceVersion of its ack
	startRV   string
	base      time.Time
	rewatches atomic.Int64
}

// watcher is one watch stream, read as raw protobuf frames so that the
// harness spends little CPU per event next to the server under test.
type watcher struct {
	f      *fanout
	client kubernetes.Interface
	body   io.ReadCloser
	recv   []int64 // per update: arrival since base, 0 until received
	got    int
	last   int // last update received, -1 before any
}

// open starts the watch at resourceVersion rv.
func (w *watcher) open(ctx context.Context, rv string) error {
	result := w.client.CoreV1().RESTClient().Get().Namespace(watchNamespace).Resource("pods").
		Param("watch", "true").Param("resourceVersion", rv).Param("timeoutSeconds", "600").
		SetHeader("Accept", "application/vnd.kubernetes.protobuf;stream=watch")
	body, err := result.Stream(ctx)
	if err != nil {
		return err
	}
	w.body, w.last = body, -1
	return nil
}

// read receives events until every update has arrived or ctx ends; a
// stream that ends early is reopened after the last update received, as
// a reflector would.
func (w *watcher) read(ctx context.Context, errs *errorLog) {
	defer func() { _ = w.body.Close() }()
	for w.got < w.f.updates && ctx.Err() == nil {
		err := w.readStream(ctx)
		if w.got == w.f.updates || ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, io.EOF) {
			errs.add("watch", err)
		}
		_ = w.body.Close()
		w.f.rewatches.Add(1)
		rv := w.f.startRV
		if w.last >= 0 {
			rv = w.waitAckRV(ctx, w.last)
		}
		if err := w.open(ctx, rv); err != nil {
			if ctx.Err() == nil {
				errs.add("rewatch", err)
			}
			return
		}
	}
}

// waitAckRV returns the resourceVersion update seq was acked with, waiting
// for the writer to record it.
func (w *watcher) waitAckRV(ctx context.Context, seq int) string {
	for ctx.Err() == nil {
		if rv := w.f.ackRV[seq].Load(); rv != nil {
			return *rv
		}
		time.Sleep(time.Millisecond)
	}
	return ""
}

// seqNeedle is how the annotation key is encoded inside a protobuf pod:
// the key field of a map entry, followed by the value field's tag.
var seqNeedle = func() []byte {
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	b = protowire.AppendString(b, seqAnnotation)
	return protowire.AppendTag(b, 2, protowire.BytesType)
}()

// readStream reads length-prefixed WatchEvent frames until the stream ends.
func (w *watcher) readStream(ctx context.Context) error {
	r := bufio.NewReaderSize(w.body, 64<<10)
	var hdr [4]byte
	var frame []byte
	for ctx.Err() == nil {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return err
		}
		n := int(binary.BigEndian.Uint32(hdr[:]))
		if cap(frame) < n {
			frame = make([]byte, n)
		}
		frame = frame[:n]
		if _, err := io.ReadFull(r, frame); err != nil {
			return err
		}
		at := int64(time.Since(w.f.base))
		typ, err := eventType(frame)
		if err != nil {
			return err
		}
		if typ != "MODIFIED" {
			return fmt.Errorf("unexpected %s event", typ)
		}
		seq, err := eventSeq(frame)
		if err != nil {
			return err
		}
		if seq >= 0 && seq < len(w.recv) && w.recv[seq] == 0 {
			w.recv[seq], w.got, w.last = at, w.got+1, max(w.last, seq)
			if w.got == w.f.updates {
				return nil
			}
		}
	}
	return ctx.Err()
}

// eventType returns field 1 of a WatchEvent.
func eventType(frame []byte) (string, error) {
	for len(frame) > 0 {
		num, typ, n := protowire.ConsumeTag(frame)
		if n < 0 {
			return "", protowire.ParseError(n)
		}
		frame = frame[n:]
		if num == 1 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(frame)
			if n < 0 {
				return "", protowire.ParseError(n)
			}
			return string(v), nil
		}
		n = protowire.ConsumeFieldValue(num, typ, frame)
		if n < 0 {
			return "", protowire.ParseError(n)
		}
		frame = frame[n:]
	}
	return "", errors.New("watch event without a type")
}

// eventSeq finds the sequence annotation in an event's pod.
func eventSeq(frame []byte) (int, error) {
	i := bytes.Index(frame, seqNeedle)
	if i < 0 {
		return 0, errors.New("event without " + seqAnnotation)
	}
	v, n := protowire.ConsumeBytes(frame[i+len(seqNeedle):])
	if n < 0 {
		return 0, protowire.ParseError(n)
	}
	return strconv.Atoi(string(v))
}

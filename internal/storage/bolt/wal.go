package bolt

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// wal is the write-ahead log: preallocated segment files of records, each
// a group commit: [length u32][crc32c u32][events]. A record is durable once
// append returns. Zeroes or a bad checksum mark the end of the log: that is
// where a crash interrupted the last, unacknowledged, append.
type wal struct {
	dir     string
	segSize int64

	// Owned by the writer.
	f     *os.File
	off   int64
	first int64 // first revision of the open segment
	last  int64 // last revision written to the open segment

	mu     sync.Mutex
	closed []walSegment // segments before the open one, oldest first
}

type walSegment struct {
	path string
	last int64
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

const walSuffix = ".wal"

func segmentName(firstRev int64) string { return fmt.Sprintf("%016x%s", firstRev, walSuffix) }

// readWAL returns every event in the log in dir, oldest first.
func readWAL(dir string) ([]*event, error) {
	names, err := walSegments(dir)
	if err != nil {
		return nil, err
	}
	var events []*event
	for i, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read wal segment %s: %w", name, err)
		}
		evs, torn := parseSegment(data)
		// Only the last segment may end early: earlier ones were synced
		// whole before the next one was started.
		if torn && i != len(names)-1 {
			return nil, fmt.Errorf("wal segment %s is corrupt", name)
		}
		events = append(events, evs...)
	}
	return events, nil
}

// parseSegment decodes records until the end of the written part; torn
// reports a record that is present but damaged.
func parseSegment(data []byte) (events []*event, torn bool) {
	for len(data) >= 8 {
		n := binary.BigEndian.Uint32(data[0:])
		sum := binary.BigEndian.Uint32(data[4:])
		if n == 0 && sum == 0 {
			return events, false
		}
		if uint64(n) > uint64(len(data)-8) || crc32.Checksum(data[8:8+n], crcTable) != sum {
			return events, true
		}
		payload := data[8 : 8+n]
		for len(payload) > 0 {
			e, rest, err := decodeEvent(payload)
			if err != nil {
				return events, true
			}
			events = append(events, e)
			payload = rest
		}
		data = data[8+n:]
	}
	return events, false
}

func walSegments(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list wal %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), walSuffix) {
			if _, err := strconv.ParseUint(strings.TrimSuffix(e.Name(), walSuffix), 16, 64); err == nil {
				names = append(names, e.Name())
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// removeWAL deletes every segment in dir.
func removeWAL(dir string) error {
	names, err := walSegments(dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("remove wal segment: %w", err)
		}
	}
	return syncDir(dir)
}

// newWAL starts an empty log in dir whose first record holds firstRev.
func newWAL(dir string, segSize, firstRev int64) (*wal, error) {
	w := &wal{dir: dir, segSize: segSize}
	if err := w.startSegment(firstRev); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *wal) startSegment(firstRev int64) error {
	path := filepath.Join(w.dir, segmentName(firstRev))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create wal segment: %w", err)
	}
	// Preallocating lets fdatasync skip most metadata updates.
	if err := unix.Fallocate(int(f.Fd()), 0, 0, w.segSize); err != nil && err != unix.EOPNOTSUPP {
		_ = f.Close()
		return fmt.Errorf("preallocate wal segment: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync wal segment: %w", err)
	}
	if err := syncDir(w.dir); err != nil {
		_ = f.Close()
		return err
	}
	w.f, w.off, w.first, w.last = f, 0, firstRev, firstRev-1
	return nil
}

// walFrameHeader is the length and checksum in front of each record.
const walFrameHeader = 8

// append writes one record and syncs it. frame is walFrameHeader bytes
// that append fills in, then the events, whose revisions run from firstRev
// to lastRev.
func (w *wal) append(frame []byte, firstRev, lastRev int64) error {
	payload := frame[walFrameHeader:]
	if w.off > 0 && w.off+int64(len(frame)) > w.segSize {
		if err := w.f.Sync(); err != nil {
			return fmt.Errorf("sync wal segment: %w", err)
		}
		if err := w.f.Close(); err != nil {
			return fmt.Errorf("close wal segment: %w", err)
		}
		w.mu.Lock()
		w.closed = append(w.closed, walSegment{path: filepath.Join(w.dir, segmentName(w.first)), last: w.last})
		w.mu.Unlock()
		if err := w.startSegment(firstRev); err != nil {
			return err
		}
	}
	binary.BigEndian.PutUint32(frame[0:], uint32(len(payload)))
	binary.BigEndian.PutUint32(frame[4:], crc32.Checksum(payload, crcTable))
	if _, err := w.f.WriteAt(frame, w.off); err != nil {
		return fmt.Errorf("write wal: %w", err)
	}
	if err := unix.Fdatasync(int(w.f.Fd())); err != nil {
		return fmt.Errorf("sync wal: %w", err)
	}
	w.off += int64(len(frame))
	w.last = lastRev
	return nil
}

// release deletes closed segments whose records are all applied.
func (w *wal) release(applied int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.closed) > 0 && w.closed[0].last <= applied {
		if err := os.Remove(w.closed[0].path); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("remove wal segment: %w", err)
		}
		w.closed = w.closed[1:]
	}
	return nil
}

func (w *wal) close() error {
	return w.f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

package bolt

import (
	"encoding/binary"
	"errors"
	"slices"

	"github.com/tugcluster/tug/internal/storage"
)

// record is the state of one key: the kv bucket's value format.
type record struct {
	createRev int64
	modRev    int64
	expiry    int64 // unix nanoseconds; 0: no TTL
	value     []byte
}

// event is one committed write. Events have consecutive revisions; the
// in-memory log, the history bucket and the write-ahead log all hold them.
type event struct {
	rev  int64
	time int64 // unix nanoseconds of the commit, for compaction by age
	typ  storage.EventType
	key  string
	cur  *record // nil for a delete
	prev *record // nil when the write created the key
}

var errCorrupt = errors.New("corrupt record")

const recordHeader = 24

func encodeRecord(r *record) []byte {
	return appendRecord(make([]byte, 0, recordHeader+len(r.value)), r)
}

func appendRecord(buf []byte, r *record) []byte {
	buf = binary.BigEndian.AppendUint64(buf, uint64(r.createRev))
	buf = binary.BigEndian.AppendUint64(buf, uint64(r.modRev))
	buf = binary.BigEndian.AppendUint64(buf, uint64(r.expiry))
	return append(buf, r.value...)
}

// decodeRecord decodes without copying: value aliases data.
func decodeRecord(data []byte) (*record, error) {
	if len(data) < recordHeader {
		return nil, errCorrupt
	}
	return &record{
		createRev: int64(binary.BigEndian.Uint64(data[0:])),
		modRev:    int64(binary.BigEndian.Uint64(data[8:])),
		expiry:    int64(binary.BigEndian.Uint64(data[16:])),
		value:     data[recordHeader:],
	}, nil
}

const (
	flagCur  = 1 << 0
	flagPrev = 1 << 1
)

// appendEvent encodes e; withPrev controls whether the previous state is
// included (history needs it, the write-ahead log does not).
func appendEvent(buf []byte, e *event, withPrev bool) []byte {
	buf = slices.Grow(buf, eventSize(e, withPrev))
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.rev))
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.time))
	var flags byte
	if e.cur != nil {
		flags |= flagCur
	}
	if withPrev && e.prev != nil {
		flags |= flagPrev
	}
	buf = append(buf, byte(e.typ), flags)
	buf = binary.AppendUvarint(buf, uint64(len(e.key)))
	buf = append(buf, e.key...)
	for _, r := range []*record{e.cur, e.prev} {
		if r == nil || (r == e.prev && !withPrev) {
			continue
		}
		buf = binary.AppendUvarint(buf, uint64(recordHeader+len(r.value)))
		buf = appendRecord(buf, r)
	}
	return buf
}

// eventSize is an upper bound of the length appendEvent adds, so that it
// allocates once.
func eventSize(e *event, withPrev bool) int {
	n := 18 + binary.MaxVarintLen64 + len(e.key)
	for _, r := range []*record{e.cur, e.prev} {
		if r != nil && (r != e.prev || withPrev) {
			n += binary.MaxVarintLen64 + recordHeader + len(r.value)
		}
	}
	return n
}

// decodeEvent decodes one event from the front of data and returns the rest.
// Record values alias data.
func decodeEvent(data []byte) (*event, []byte, error) {
	if len(data) < 18 {
		return nil, nil, errCorrupt
	}
	e := &event{
		rev:  int64(binary.BigEndian.Uint64(data[0:])),
		time: int64(binary.BigEndian.Uint64(data[8:])),
		typ:  storage.EventType(data[16]),
	}
	flags := data[17]
	data = data[18:]
	keyLen, n := binary.Uvarint(data)
	if n <= 0 || uint64(len(data)-n) < keyLen {
		return nil, nil, errCorrupt
	}
	e.key = string(data[n : n+int(keyLen)])
	data = data[n+int(keyLen):]
	readRecord := func() (*record, error) {
		l, n := binary.Uvarint(data)
		if n <= 0 || uint64(len(data)-n) < l {
			return nil, errCorrupt
		}
		r, err := decodeRecord(data[n : n+int(l)])
		data = data[n+int(l):]
		return r, err
	}
	var err error
	if flags&flagCur != 0 {
		if e.cur, err = readRecord(); err != nil {
			return nil, nil, err
		}
	}
	if flags&flagPrev != 0 {
		if e.prev, err = readRecord(); err != nil {
			return nil, nil, err
		}
	}
	return e, data, nil
}

func revKey(rev int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(rev))
}

func ttlKey(expiry int64, key string) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(expiry))
	return append(b, key...)
}

// keyValue converts r, the state of key, into the storage form.
func (r *record) keyValue(key string) storage.KeyValue {
	return storage.KeyValue{Key: key, Value: r.value, CreateRevision: r.createRev, ModRevision: r.modRev}
}

// storageEvent converts e into the storage form.
func (e *event) storageEvent() storage.Event {
	out := storage.Event{Type: e.typ}
	if e.cur != nil {
		out.KV = e.cur.keyValue(e.key)
	} else {
		out.KV = storage.KeyValue{Key: e.key, ModRevision: e.rev}
		if e.prev != nil {
			out.KV.CreateRevision = e.prev.createRev
		}
	}
	if e.prev != nil {
		kv := e.prev.keyValue(e.key)
		out.Prev = &kv
	}
	return out
}

package logs

// ring keeps the last max lines pushed to it. It grows as lines come, so a
// large TailLines costs only what the file holds.
type ring struct {
	max  int64
	buf  []*line
	next int // where the next line goes once buf is full
}

func newRing(n int64) *ring {
	return &ring{max: max(n, 0)}
}

func (r *ring) push(l *line) {
	switch {
	case r.max == 0:
	case int64(len(r.buf)) < r.max:
		r.buf = append(r.buf, l)
	default:
		r.buf[r.next] = l
		r.next = (r.next + 1) % len(r.buf)
	}
}

// lines returns what the ring holds, oldest first.
func (r *ring) lines() []*line {
	return append(append([]*line(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}

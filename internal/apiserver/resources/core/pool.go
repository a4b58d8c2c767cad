package core

// pool tracks which of size numbered slots (addresses or ports) are held,
// and by whom. It is not safe for concurrent use; Allocator locks it.
type pool struct {
	size int
	// reserved slots are never handed out by takeNext; each may be taken
	// only by the named owner, or by nobody when the name is empty.
	reserved map[int]string
	owners   map[int]string
	// next is where takeNext looks first: handing out slots in turn keeps
	// a freed one unused for as long as possible.
	next int
}

func (p *pool) reset() {
	p.owners = map[int]string{}
	p.next = 0
}

func (p *pool) free() int {
	n := p.size - len(p.owners)
	for off := range p.reserved {
		if _, held := p.owners[off]; !held {
			n--
		}
	}
	return n
}

// take gives slot off to owner and reports whether it was newly taken.
// force (used when rebuilding from storage) ignores reservations.
func (p *pool) take(off int, owner string, force bool, taken error) (bool, error) {
	if holder, held := p.owners[off]; held {
		if holder == owner {
			return false, nil
		}
		return false, taken
	}
	if want, ok := p.reserved[off]; ok && !force && want != owner {
		if want == "" {
			return false, errOutOfRange
		}
		return false, reservedError{want}
	}
	p.owners[off] = owner
	return true, nil
}

func (p *pool) takeNext(owner string) (int, error) {
	for i := range p.size {
		off := (p.next + i) % p.size
		if _, held := p.owners[off]; held {
			continue
		}
		if _, ok := p.reserved[off]; ok {
			continue
		}
		p.owners[off] = owner
		p.next = (off + 1) % p.size
		return off, nil
	}
	return 0, errRangeFull
}

// release frees off if owner holds it.
func (p *pool) release(off int, owner string) {
	if p.owners[off] == owner {
		delete(p.owners, off)
	}
}

// reservedError is the error of taking a slot reserved for another owner.
type reservedError struct{ owner string }

func (e reservedError) Error() string { return "provided IP is reserved for service " + e.owner }

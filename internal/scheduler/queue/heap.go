package queue

import "container/heap"

// keyedHeap is a binary heap whose items can also be found, fixed and
// removed by key in O(log n).
type keyedHeap[T any] struct {
	items []T
	index map[string]int
	key   func(T) string
	less  func(a, b T) bool
}

func newKeyedHeap[T any](key func(T) string, less func(a, b T) bool) *keyedHeap[T] {
	return &keyedHeap[T]{index: map[string]int{}, key: key, less: less}
}

// adapter implements container/heap.Interface; kept separate so the
// heap's own methods can have the natural names.
type adapter[T any] struct{ h *keyedHeap[T] }

func (a adapter[T]) Len() int           { return len(a.h.items) }
func (a adapter[T]) Less(i, j int) bool { return a.h.less(a.h.items[i], a.h.items[j]) }
func (a adapter[T]) Swap(i, j int) {
	it := a.h.items
	it[i], it[j] = it[j], it[i]
	a.h.index[a.h.key(it[i])] = i
	a.h.index[a.h.key(it[j])] = j
}
func (a adapter[T]) Push(x any) {
	item := x.(T)
	a.h.index[a.h.key(item)] = len(a.h.items)
	a.h.items = append(a.h.items, item)
}
func (a adapter[T]) Pop() any {
	n := len(a.h.items) - 1
	item := a.h.items[n]
	var zero T
	a.h.items[n] = zero // let the item be collected
	a.h.items = a.h.items[:n]
	delete(a.h.index, a.h.key(item))
	return item
}

// Len is the number of items.
func (h *keyedHeap[T]) Len() int { return len(h.items) }

// AddOrUpdate inserts item, or replaces the item with the same key.
func (h *keyedHeap[T]) AddOrUpdate(item T) {
	if i, ok := h.index[h.key(item)]; ok {
		h.items[i] = item
		heap.Fix(adapter[T]{h}, i)
		return
	}
	heap.Push(adapter[T]{h}, item)
}

// Get returns the item with key.
func (h *keyedHeap[T]) Get(key string) (T, bool) {
	if i, ok := h.index[key]; ok {
		return h.items[i], true
	}
	var zero T
	return zero, false
}

// Delete removes the item with key and reports whether it was there.
func (h *keyedHeap[T]) Delete(key string) bool {
	i, ok := h.index[key]
	if ok {
		heap.Remove(adapter[T]{h}, i)
	}
	return ok
}

// Peek returns the smallest item without removing it.
func (h *keyedHeap[T]) Peek() (T, bool) {
	if len(h.items) == 0 {
		var zero T
		return zero, false
	}
	return h.items[0], true
}

// Pop removes and returns the smallest item.
func (h *keyedHeap[T]) Pop() (T, bool) {
	if len(h.items) == 0 {
		var zero T
		return zero, false
	}
	return heap.Pop(adapter[T]{h}).(T), true
}

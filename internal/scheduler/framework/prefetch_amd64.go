package framework

import "unsafe"

// prefetch hints that the cache line at addr will be read soon
// (PREFETCHT0); it never faults.
//
//go:noescape
func prefetch(addr unsafe.Pointer)

package freeport

import (
	"net"
	"testing"
)

// The kernel reuses a just-closed port now and then; Address must never return one twice.
func TestAddressNeverRepeats(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		addr, err := Address()
		if err != nil {
			t.Fatal(err)
		}
		if seen[addr] {
			t.Fatalf("%s handed out twice", addr)
		}
		seen[addr] = true
	}
}

func TestAddressIsFree(t *testing.T) {
	addr, err := Address()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on the address handed out: %v", err)
	}
	l.Close()
}

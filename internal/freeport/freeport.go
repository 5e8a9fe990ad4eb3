// Package freeport hands out loopback addresses for servers that tests and the simulator start.
package freeport

import (
	"errors"
	"net"
	"sync"
)

// handedOut holds every address given so far. A server binds its address some time after it
// is handed out (a simulated workstation's exporter at its first step, Prometheus after it
// loads), and the kernel may give a port that was just closed to the next Listen on port 0:
// 36 of 20,000 such listens here returned one of the previous 15 ports.
var (
	mu        sync.Mutex
	handedOut = map[string]bool{}
)

// Address returns a loopback address that nothing listens on right now and that no earlier
// call in this process returned.
func Address() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		addr := l.Addr().String()
		l.Close()
		if !handedOut[addr] {
			handedOut[addr] = true
			return addr, nil
		}
	}
	return "", errors.New("no free loopback port that was not handed out already")
}

package scrapehttp

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// ServerOptions bound what clients may hold of the exporter's web server.
type ServerOptions struct {
	// ReadHeaderTimeout closes a connection that does not send its request headers in time.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends no new request in time. It must be
	// longer than the slowest scrape interval, or Prometheus reconnects on every scrape.
	IdleTimeout time.Duration
	// MaxConnections bounds the connections held open at once; zero means no bound.
	MaxConnections int
}

// DefaultServerOptions: two minutes of idleness outlasts the usual 15 s to 1 min scrape
// intervals; 64 connections leave most of a 1,024 descriptor limit to the collectors.
var DefaultServerOptions = ServerOptions{
	ReadHeaderTimeout: 10 * time.Second,
	IdleTimeout:       2 * time.Minute,
	MaxConnections:    64,
}

// NewServer returns the http.Server for handler with opts' timeouts and connection bound.
func NewServer(handler http.Handler, opts ServerOptions) *http.Server {
	s := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		IdleTimeout:       opts.IdleTimeout,
	}
	if opts.MaxConnections > 0 {
		s.ConnState = newConnectionLimit(opts.MaxConnections).connState
	}
	return s
}

// connectionLimit keeps at most max connections open. When a new connection would pass the
// bound, the connection idle the longest (between requests, or not yet sending one) is closed
// to make room, so that idle connections from anyone cannot lock Prometheus out; only when
// every other connection is in the middle of a request is the new one closed instead.
type connectionLimit struct {
	max   int
	mu    sync.Mutex
	conns map[net.Conn]connPhase
}

// connPhase is what a connection is doing and since when.
type connPhase struct {
	state http.ConnState
	since time.Time
}

func newConnectionLimit(max int) *connectionLimit {
	return &connectionLimit{max: max, conns: make(map[net.Conn]connPhase, max+1)}
}

// connState is the server's ConnState hook.
func (l *connectionLimit) connState(c net.Conn, state http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch state {
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
		return
	case http.StateActive:
		l.conns[c] = connPhase{state: state, since: l.conns[c].since}
		return
	case http.StateIdle:
		l.conns[c] = connPhase{state: state, since: time.Now()}
		return
	}
	// StateNew.
	l.conns[c] = connPhase{state: state, since: time.Now()}
	if len(l.conns) <= l.max {
		return
	}
	victim := l.longestIdle(c)
	if victim == nil {
		victim = c
	}
	delete(l.conns, victim)
	_ = victim.Close() // its serve goroutine sees the error and ends
}

// longestIdle returns the connection other than except that has waited longest without a
// request in progress, idle connections before new ones, or nil.
func (l *connectionLimit) longestIdle(except net.Conn) net.Conn {
	var best net.Conn
	var bestPhase connPhase
	for c, p := range l.conns {
		if c == except || p.state == http.StateActive {
			continue
		}
		if best == nil || idleBefore(p, bestPhase) {
			best, bestPhase = c, p
		}
	}
	return best
}

// idleBefore orders eviction candidates: idle keep-alive connections first (a client that
// finished its request), then connections that have not completed a request, oldest first.
func idleBefore(a, b connPhase) bool {
	if a.state != b.state {
		return a.state == http.StateIdle
	}
	return a.since.Before(b.since)
}

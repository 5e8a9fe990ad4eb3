package scrapehttp

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// startServer serves handler on a loopback port with opts and returns its address.
func startServer(t *testing.T, handler http.Handler, opts ServerOptions) string {
	addr, _ := startServerIdleNotify(t, handler, opts)
	return addr
}

// startServerIdleNotify is startServer that also tells each time the server has taken a
// connection as idle: a client reads its response before the server records that, so a test
// of the order of idleness waits for it.
func startServerIdleNotify(t *testing.T, handler http.Handler, opts ServerOptions) (string, <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(handler, opts)
	idle := make(chan struct{}, 64)
	if hook := srv.ConnState; hook != nil {
		srv.ConnState = func(c net.Conn, s http.ConnState) {
			hook(c, s)
			if s == http.StateIdle {
				select {
				case idle <- struct{}{}:
				default:
				}
			}
		}
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String(), idle
}

// waitIdle waits until the server has taken one more connection as idle.
func waitIdle(t *testing.T, idle <-chan struct{}) {
	t.Helper()
	select {
	case <-idle:
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not take the connection as idle within 5 s")
	}
}

// idleConnection makes one keep-alive request on a new connection and leaves it open.
func idleConnection(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return c
}

// closedByServer reports whether the server closed c within wait.
func closedByServer(c net.Conn, wait time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	_, _ = io.WriteString(w, "ok\n")
})

// Issue 14.4 reproduced: idle keep-alive connections from anyone were held for good (2,000
// of them took 2,014 descriptors) until the exporter stopped answering. With a bound, the
// idle ones are closed to make room and a new client (Prometheus) is still answered.
func TestServerBoundsIdleConnections(t *testing.T) {
	const limit, idle = 8, 24
	addr := startServer(t, okHandler, ServerOptions{ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Hour, MaxConnections: limit})
	conns := make([]net.Conn, idle)
	for i := range conns {
		conns[i] = idleConnection(t, addr)
	}

	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("a new client is not answered while idle connections fill the bound: %v", err)
	}
	_ = resp.Body.Close()
	client.CloseIdleConnections()

	var closed atomic.Int32
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			if closedByServer(c, time.Second) {
				closed.Add(1)
			}
		})
	}
	wg.Wait()
	// Of idle+1 connections at most limit stay open.
	if want := int32(idle + 1 - limit); closed.Load() < want {
		t.Errorf("the server closed %d of %d idle connections, want at least %d (bound %d)", closed.Load(), idle, want, limit)
	}
}

// The oldest idle connection goes first, so a client that just scraped keeps its connection.
func TestServerClosesLongestIdleFirst(t *testing.T) {
	addr, idle := startServerIdleNotify(t, okHandler, ServerOptions{ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Hour, MaxConnections: 2})
	oldest := idleConnection(t, addr)
	waitIdle(t, idle)
	newer := idleConnection(t, addr)
	waitIdle(t, idle)
	idleConnection(t, addr) // the third passes the bound
	if !closedByServer(oldest, 2*time.Second) {
		t.Error("the longest idle connection is still open past the bound")
	}
	if closedByServer(newer, 200*time.Millisecond) {
		t.Error("a more recently used connection was closed while an older one was idle")
	}
}

// Issue 14.4 also: only a read-header timeout was set, so an idle keep-alive connection was
// never closed. The default idle timeout outlasts a slow scrape interval.
func TestServerClosesIdleConnections(t *testing.T) {
	if DefaultServerOptions.IdleTimeout < time.Minute || DefaultServerOptions.IdleTimeout > 10*time.Minute {
		t.Errorf("default idle timeout %v: want more than a slow scrape interval (1 min), a few minutes at most", DefaultServerOptions.IdleTimeout)
	}
	if DefaultServerOptions.MaxConnections <= 0 || DefaultServerOptions.MaxConnections > 512 {
		t.Errorf("default connection bound %d: want a bound well under a 1,024 descriptor limit", DefaultServerOptions.MaxConnections)
	}
	addr := startServer(t, okHandler, ServerOptions{ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 100 * time.Millisecond})
	c := idleConnection(t, addr)
	if !closedByServer(c, 5*time.Second) {
		t.Error("an idle connection is still open well past the idle timeout")
	}
}

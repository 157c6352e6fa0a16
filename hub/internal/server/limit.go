package server

import (
	"net"
	"sync"
	"sync/atomic"
)

// DefaultMaxConnections bounds open connections per port. Beyond it new
// connections are closed at once (load shed) instead of queueing.
const DefaultMaxConnections = 20000

// DefaultMaxConnectionsPerAddress bounds the gRPC port's open connections
// from one remote address (agents behind one NAT share an address).
const DefaultMaxConnectionsPerAddress = 1024

// shedListener closes connections accepted beyond max open ones, or beyond
// perAddr open ones from one remote address (0: no such limit).
type shedListener struct {
	net.Listener
	max, perAddr int64
	open         atomic.Int64
	shed         *atomic.Uint64 // over max
	shedAddr     *atomic.Uint64 // over perAddr
	mu           sync.Mutex
	byAddr       map[string]int64
}

func newShedListener(l net.Listener, max, perAddr int, shed, shedAddr *atomic.Uint64) net.Listener {
	if max <= 0 {
		max = DefaultMaxConnections
	}
	return &shedListener{Listener: l, max: int64(max), perAddr: int64(perAddr), shed: shed, shedAddr: shedAddr, byAddr: map[string]int64{}}
}

func (l *shedListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			l.shed.Add(1)
			_ = c.Close()
			continue
		}
		addr := remoteHost(c)
		if !l.admit(addr) {
			l.open.Add(-1)
			l.shedAddr.Add(1)
			_ = c.Close()
			continue
		}
		return &countedConn{Conn: c, l: l, addr: addr}, nil
	}
}

// admit counts one more connection from addr, unless it has perAddr open.
func (l *shedListener) admit(addr string) bool {
	if l.perAddr <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr[addr] >= l.perAddr {
		return false
	}
	l.byAddr[addr]++
	return true
}

func (l *shedListener) release(addr string) {
	l.open.Add(-1)
	if l.perAddr <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
		delete(l.byAddr, addr)
	}
}

func remoteHost(c net.Conn) string {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

type countedConn struct {
	net.Conn
	l    *shedListener
	addr string
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.release(c.addr) })
	return c.Conn.Close()
}

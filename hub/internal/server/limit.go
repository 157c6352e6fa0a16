package server

import (
	"net"
	"sync"
	"sync/atomic"
)

// DefaultMaxConnections bounds open connections per port. Beyond it new
// connections are closed at once (load shed) instead of queueing.
const DefaultMaxConnections = 20000

// shedListener closes connections accepted beyond max open ones.
type shedListener struct {
	net.Listener
	max  int64
	open atomic.Int64
	shed *atomic.Uint64
}

func newShedListener(l net.Listener, max int, shed *atomic.Uint64) net.Listener {
	if max <= 0 {
		max = DefaultMaxConnections
	}
	return &shedListener{Listener: l, max: int64(max), shed: shed}
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
		return &countedConn{Conn: c, open: &l.open}, nil
	}
}

type countedConn struct {
	net.Conn
	open *atomic.Int64
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

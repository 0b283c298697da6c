package postgres

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"
)

// errClosed is returned by every method after Close.
var errClosed = errors.New("postgres: store closed")

// connPool is a small pool of pgx connections. pgxpool would do, but it needs
// github.com/jackc/puddle/v2 in go.mod; the store's needs are simple: a bound on open
// connections, reuse of idle ones, and dropping broken ones.
type connPool struct {
	cfg   *pgx.ConnConfig
	slots chan struct{} // one token per connection in use

	mu     sync.Mutex
	idle   []*pgx.Conn
	closed bool
}

func newConnPool(cfg *pgx.ConnConfig, max int) *connPool {
	return &connPool{cfg: cfg, slots: make(chan struct{}, max)}
}

// acquire returns an idle connection or dials a new one, waiting while max are in use.
func (p *connPool) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.slots
		return nil, errClosed
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	c, err := pgx.ConnectConfig(ctx, p.cfg)
	if err != nil {
		<-p.slots
		return nil, err
	}
	return c, nil
}

// release returns c to the pool, or closes it if it is broken, still inside a
// transaction, or the pool is closed.
func (p *connPool) release(c *pgx.Conn) {
	defer func() { <-p.slots }()
	p.mu.Lock()
	if !p.closed && !c.IsClosed() && c.PgConn().TxStatus() == 'I' {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	c.Close(context.Background())
}

// close closes the idle connections; connections in use are closed on release.
func (p *connPool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		c.Close(context.Background())
	}
}

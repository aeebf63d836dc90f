package load

import (
	"context"
	"time"
)

// backoff spaces out a client's retries after failures, 1 ms doubling to
// one second, so that a dead or refusing server is not hammered by a busy
// loop that would measure nothing but the client's own speed.
type backoff struct{ d time.Duration }

func (b *backoff) wait(ctx context.Context) { sleep(ctx, b.next()) }

// next is the pause after one more failure.
func (b *backoff) next() time.Duration {
	b.d = min(max(2*b.d, time.Millisecond), time.Second)
	return b.d
}

func (b *backoff) reset() { b.d = 0 }

package discord

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/internal/fakediscord"
)

// TestOnRateLimit checks that each 429 is reported with the wait
// Discord asked for, and the post still goes out once.
func TestOnRateLimit(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var waits []time.Duration
	e := newEnv(t, &fakeService{stories: 1})
	e.configure = func(c *Config) {
		c.OnRateLimit = func(d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			waits = append(waits, d)
		}
	}
	e.bot = e.newBot()
	e.start()
	sub := e.subscription()
	e.srv.Inject("POST /channels/*/messages", fakediscord.Fault{Status: 429, RetryAfter: 0.2}, fakediscord.Fault{Status: 429, RetryAfter: 0.3})
	if err := e.deliver(&sub, sub.NextSlot); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Messages(testChannel)); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
	deadline := time.Now().Add(5 * time.Second) // handlers run on goroutines
	for {
		mu.Lock()
		got := append([]time.Duration(nil), waits...)
		mu.Unlock()
		if len(got) == 2 || time.Now().After(deadline) {
			if len(got) != 2 || got[0]+got[1] != 500*time.Millisecond {
				t.Errorf("rate limit waits %v, want 200ms and 300ms", got)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConnected follows the gateway session: down before Run, up once
// READY came, up again once a dropped connection is resumed, down after
// Run returns.
func TestConnected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{})
	if e.bot.Connected() {
		t.Error("connected before Run")
	}
	e.start()
	waitConnected := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for e.bot.Connected() != want {
			if time.Now().After(deadline) {
				t.Fatalf("Connected() stayed %t, want %t", !want, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitConnected(true)
	e.srv.DropGateway()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	waitConnected(true)
	e.stop()
	if e.bot.Connected() {
		t.Error("connected after Run returned")
	}
}

package fakediscord_test

import (
	"context"
	"testing"
	"time"

	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/bwmarrin/discordgo"
)

// TestHoldAnswerCreatesFirst: with HoldAnswer the message exists while
// its answer is held, and a client that gives up meanwhile has still
// posted it.
func TestHoldAnswerCreatesFirst(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := newSession(t, srv, token)
	srv.Inject("POST /channels/*/messages", fakediscord.Fault{HoldAnswer: 300 * time.Millisecond}, fakediscord.Fault{HoldAnswer: time.Minute})

	done := make(chan error, 1)
	start := time.Now()
	go func() { _, err := dg.ChannelMessageSend(chanID, "held"); done <- err }()
	waitUntilTrue(t, func() bool { return len(srv.Messages(chanID)) == 1 })
	select {
	case err := <-done:
		t.Fatalf("answered (%v) no later than the message was created", err)
	default:
	}
	if err := <-done; err != nil {
		t.Fatalf("send: %v", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("answered after %v, want the 300 ms hold", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := dg.ChannelMessageSend(chanID, "lost answer", discordgo.WithContext(ctx), discordgo.WithRestRetries(0)); err == nil {
		t.Fatal("send with its answer held past the client's deadline succeeded")
	}
	if n := len(srv.Messages(chanID)); n != 2 {
		t.Errorf("%d messages, want 2: the second is created though its answer never arrived", n)
	}
}

func waitUntilTrue(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

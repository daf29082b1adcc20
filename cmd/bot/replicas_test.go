package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/briefbot/briefbot/schedule"
	"github.com/briefbot/briefbot/sqlstore"
)

// TestReplicasOnPostgres runs two briefbot replicas on one PostgreSQL
// database against the fake Discord, with 50 subscriptions due in the
// same minute, and kills one replica with SIGKILL once posting has begun:
// every slot is posted exactly once.
func TestReplicasOnPostgres(t *testing.T) {
	base := os.Getenv("BRIEFBOT_TEST_DATABASE_URL")
	if base == "" {
		t.Skip("BRIEFBOT_TEST_DATABASE_URL is not set: the replica test needs PostgreSQL")
	}
	if testing.Short() {
		t.Skip("real-time replica test (about two minutes); skipped with -short")
	}
	dsn := postgresSchema(t, base)
	bin := buildBinary(t)
	const guild = "100000000000000001"
	srv := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: "tok", Guilds: []string{guild}})
	dir := t.TempDir()
	cfg := writeFile(t, dir, "briefbot.yaml", fmt.Sprintf(`database: %q
sources: []
topics:
  - name: korea-talks
    query: '"north korea" OR pyongyang'
schedule:
  min_interval: 1m
jobs:
  rescue_after: 10s
  drain_timeout: 5s
`, dsn))

	// 50 subscriptions, all due at the next minute.
	ctx := t.Context()
	store, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	topic, err := store.AddTopic(ctx, digest.Topic{Name: "korea-talks", Query: `"north korea" OR pyongyang`, Origin: digest.OriginConfig})
	if err != nil {
		t.Fatal(err)
	}
	sch, err := schedule.ParseWith("every 1m", "UTC", schedule.ParseOptions{MinInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	slot := sch.Next(time.Now().Add(10 * time.Second))
	var channels []string
	for i := range 50 {
		ch := fmt.Sprintf("2000000000000002%02d", i)
		channels = append(channels, ch)
		srv.AddChannel(fakediscord.Channel{ID: ch, GuildID: guild, Name: fmt.Sprintf("news-%d", i)})
		if _, err := store.AddSubscription(ctx, digest.Subscription{GuildID: guild, ChannelID: ch, TopicID: topic.ID,
			Schedule: "every 1m", TimeZone: "UTC", CatchUp: digest.CatchUpLate, NothingNew: digest.NothingNewPost, NextSlot: slot}); err != nil {
			t.Fatal(err)
		}
	}

	env := append(os.Environ(), "BRIEFBOT_CONFIG="+cfg, "DISCORD_TOKEN=tok", "BRIEFBOT_DISCORD_API_URL="+srv.URL())
	a, b := startBot(t, bin, env), startBot(t, bin, env)
	posted := func() int {
		n := 0
		for _, ch := range channels {
			n += len(srv.Messages(ch))
		}
		return n
	}
	deadline := time.Now().Add(3 * time.Minute)
	for posted() < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	a.kill(syscall.SIGKILL) // mid-run: some slots posted, some not
	killedAt := posted()
	for time.Now().Before(deadline) {
		done := 0
		for _, ch := range channels {
			if len(srv.Messages(ch)) > 0 {
				done++
			}
		}
		if done == len(channels) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // nothing more arrives
	b.kill(syscall.SIGTERM)

	tag := regexp.MustCompile(`ref ([0-9a-f]{8})-(\d+)`)
	for _, ch := range channels {
		seen := map[string]int{}
		for _, m := range srv.Messages(ch) {
			if ref := tag.FindString(m.Content); ref != "" {
				seen[ref]++
			}
		}
		if len(seen) == 0 {
			t.Errorf("channel %s: slot %v never posted", ch, slot)
		}
		for ref, n := range seen {
			if n != 1 {
				t.Errorf("channel %s: %s posted %d times", ch, ref, n)
			}
		}
	}
	t.Logf("killed replica A after %d of %d posts", killedAt, len(channels))
	if t.Failed() {
		t.Logf("replica A:\n%s\nreplica B:\n%s", a.logs(), b.logs())
	}
}

// postgresSchema returns base with a search_path of a new, empty schema
// that is dropped when the test ends.
func postgresSchema(t *testing.T, base string) string {
	t.Helper()
	schema := fmt.Sprintf("replicas_%d", time.Now().UnixNano())
	if out, err := exec.Command("psql", base, "-qc", "CREATE SCHEMA "+schema).CombinedOutput(); err != nil {
		t.Fatalf("create schema: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		exec.CommandContext(context.Background(), "psql", base, "-qc", "DROP SCHEMA "+schema+" CASCADE").Run()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

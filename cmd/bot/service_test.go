package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/discord"
	"github.com/briefbot/briefbot/internal/feedserver"
	"github.com/briefbot/briefbot/sources"
	"github.com/briefbot/briefbot/sqlstore"
)

func newTestService(t *testing.T) *service {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfg, err := loadConfig(writeFile(t, dir, "c.yaml", "sources: []\ntopics: []\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlstore.Open(ctx, filepath.Join(dir, "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := func() time.Time { return fixtureNow }
	poller, err := newPoller(ctx, cfg, store, log, now)
	if err != nil {
		t.Fatal(err)
	}
	return &service{cfg: cfg, store: store, poller: poller, now: now, log: log, minInterval: time.Hour}
}

// Sources added from Discord pass the SSRF guard and must be feeds.
func TestServiceAddSourceRefuses(t *testing.T) {
	svc := newTestService(t)
	srv := feedserver.New(t)
	srv.Set("/feed.xml", feedserver.Doc{Body: fixtureFeed("Gamma", 1)})
	_, err := svc.AddSource(context.Background(), digest.Source{URL: srv.URL + "/feed.xml", Origin: digest.OriginChat, GuildID: "1"})
	if !errors.Is(err, sources.ErrForbiddenAddress) {
		t.Errorf("a loopback feed from chat: %v, want the SSRF guard's refusal", err)
	}
	for _, u := range []string{"http://10.1.2.3/feed", "http://169.254.169.254/latest/meta-data", "http://[::1]:8080/feed"} {
		if _, err := svc.AddSource(context.Background(), digest.Source{URL: u, Origin: digest.OriginChat}); !errors.Is(err, sources.ErrForbiddenAddress) {
			t.Errorf("AddSource(%q) = %v, want the SSRF guard's refusal", u, err)
		}
	}
	for _, u := range []string{"ftp://example.org/feed", "not a url"} {
		if _, err := svc.AddSource(context.Background(), digest.Source{URL: u, Origin: digest.OriginChat}); err == nil {
			t.Errorf("AddSource(%q) succeeded", u)
		}
	}
}

func TestServiceNextSlotAndTopics(t *testing.T) {
	svc := newTestService(t)
	next, describe, err := svc.NextSlot("daily 08:00", "Asia/Seoul", fixtureNow)
	if err != nil || !next.After(fixtureNow) || !strings.Contains(describe, "08:00") {
		t.Errorf("NextSlot = %v, %q, %v", next, describe, err)
	}
	if _, _, err := svc.NextSlot("every 10m", "UTC", fixtureNow); err == nil {
		t.Error("a schedule under the minimum interval was accepted")
	}
	if _, err := svc.AddTopic(context.Background(), digest.Topic{Name: "bad", Query: "a OR", Origin: digest.OriginChat, GuildID: "1"}); err == nil {
		t.Error("a malformed topic query was accepted")
	}
	if _, err := svc.AddTopic(context.Background(), digest.Topic{Name: "good", Query: "pyongyang", Origin: digest.OriginChat, GuildID: "1"}); err != nil {
		t.Errorf("AddTopic: %v", err)
	}
	// A guild's topic is not visible to another guild.
	if _, err := svc.Brief(context.Background(), discordBriefRequest("good", "2"), nil); !errors.Is(err, digest.ErrNotFound) {
		t.Errorf("brief on another guild's topic: %v", err)
	}
}

func discordBriefRequest(topic, guild string) discord.BriefRequest {
	return discord.BriefRequest{GuildID: guild, Topic: topic, Since: 24 * time.Hour}
}

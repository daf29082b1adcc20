package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/briefbot/briefbot/sqlstore"
)

// Memory at rest: `briefbot run` with 1,000 sources and 10,000
// subscriptions (1,000 guilds of 10 channels) keeps its RSS at most
// 120 MB once started, while polling its sources.
const (
	restSources  = 1000
	restGuilds   = 1000
	restChannels = 10 // per guild
	restRSSLimit = 120 << 20
	restSettle   = 60 * time.Second // start-up: the gateway, the first ticks
	restSample   = 60 * time.Second
)

func TestPerfMemoryAtRest(t *testing.T) {
	skipUnlessPerf(t)
	bin := buildBinary(t)
	feeds := startPerfFeeds(t)

	var guilds []string
	for g := range restGuilds {
		guilds = append(guilds, fmt.Sprintf("1%017d", g+1))
	}
	srv := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: "tok", Guilds: guilds})
	for g, guild := range guilds {
		for c := range restChannels {
			srv.AddChannel(fakediscord.Channel{ID: fmt.Sprintf("2%017d", g*restChannels+c+1), GuildID: guild, Name: fmt.Sprint("news-", c)})
		}
	}

	dir := t.TempDir()
	db := filepath.Join(dir, "b.db")
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "database: %s\nfetch:\n  interval: 2m\ntopics:\n  - name: harbour\n    query: harbour OR ferry\n  - name: courts\n    query: court OR judge\nsources:\n", db)
	for n := range restSources {
		fmt.Fprintf(&cfg, "  - name: feed-%04d\n    url: %s\n    allow_private: true\n", n, feeds.feedURL(n))
	}
	env := append(os.Environ(), "BRIEFBOT_CONFIG="+writeFile(t, dir, "briefbot.yaml", cfg.String()),
		"DISCORD_TOKEN=tok", "BRIEFBOT_DISCORD_API_URL="+srv.URL())

	// The store as a running bot has it: every source polled once
	// (10,000 articles), then 10,000 subscriptions, none due during the
	// measurement.
	first := runPerf(t, bin, env, "--log-level", "error", "fetch", "--format", "json")
	if tot := fetchTotals(t, first.stdout); tot.Failed != 0 || tot.Articles == 0 {
		t.Fatalf("first poll: %+v", tot)
	}
	seedSubscriptions(t, db, guilds)
	// While it runs, 5% of the feeds have new items and 1% fail or are
	// slow; with a 2-minute interval (15 minutes by default) every source
	// is polled during the measurement.
	feeds.cycle.Store(1)

	reqs := feeds.requests.Load()
	p := startBot(t, bin, env)
	ctx, cancel := context.WithTimeout(context.Background(), restSettle+restSample+time.Minute)
	defer cancel()
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatalf("%v\n%s", err, tail(p.logs(), 4000))
	}
	time.Sleep(restSettle)
	var samples []int64
	for range int(restSample / time.Second) {
		rss, err := processRSS(p.cmd.Process.Pid)
		if err != nil {
			t.Fatalf("%v\n%s", err, tail(p.logs(), 4000))
		}
		samples = append(samples, rss)
		time.Sleep(time.Second)
	}
	slices.Sort(samples)
	median, peak := samples[len(samples)/2], samples[len(samples)-1]
	t.Logf("at rest with %d sources, %d subscriptions in %d guilds: RSS median %.0f MB, max %.0f MB over %v (target ≤ %d MB)",
		restSources, restGuilds*restChannels, restGuilds, float64(median)/(1<<20), float64(peak)/(1<<20), restSample, restRSSLimit>>20)
	// Alive, not idle: sources came due on their phases and were polled.
	polled := feeds.requests.Load() - reqs
	t.Logf("meanwhile %d feed and page requests", polled)
	if polled == 0 {
		t.Errorf("the bot polled nothing in %v\n%s", restSettle+restSample, tail(p.logs(), 4000))
	}
	if peak > restRSSLimit {
		t.Errorf("RSS reached %d MB, target %d MB", peak>>20, restRSSLimit>>20)
	}
	if err := p.kill(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM: %v\n%s", err, tail(p.logs(), 4000))
	}
}

// seedSubscriptions subscribes every channel of every guild to a topic,
// daily at a time that is not due for the next hours.
func seedSubscriptions(t *testing.T, db string, guilds []string) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	topics := []string{"harbour", "courts"}
	ids := make([]int64, len(topics))
	for i, name := range topics {
		top, err := store.Topic(ctx, name)
		if err != nil {
			t.Fatalf("topic %s: %v", name, err)
		}
		ids[i] = top.ID
	}
	now := time.Now().UTC()
	slot := now.Add(6 * time.Hour).Truncate(time.Hour)
	for g, guild := range guilds {
		for c := range restChannels {
			k := g*restChannels + c
			sub := digest.Subscription{
				GuildID: guild, ChannelID: fmt.Sprintf("2%017d", k+1),
				TopicID: ids[k%len(ids)], Topic: topics[k%len(ids)],
				Schedule: "daily " + slot.Format("15:04"), TimeZone: "UTC", Language: "English",
				CatchUp: digest.CatchUpLate, NextSlot: slot, CreatedBy: "400000000000000001", CreatedAt: now,
			}
			if _, err := store.AddSubscription(ctx, sub); err != nil {
				t.Fatalf("subscription %d: %v", k, err)
			}
		}
	}
}

// processRSS reads the resident set size of process pid from /proc.
func processRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

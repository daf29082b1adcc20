package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/briefbot/briefbot/schedule"
	"github.com/briefbot/briefbot/sqlstore"
	"github.com/bwmarrin/discordgo"
)

const (
	testGuild   = "100000000000000001"
	testChannel = "200000000000000001"
	otherGuild  = "100000000000000002"
	token       = "test-token"
)

// fakeService answers briefings with a canned briefing after delay, and
// validates schedules with the real schedule package.
type fakeService struct {
	delay   time.Duration
	stories int
	calls   atomic.Int32
	// running and peak count the Brief calls in progress, now and at most.
	running, peak atomic.Int32
}

func (f *fakeService) Brief(ctx context.Context, req BriefRequest, progress func(string)) (digest.Briefing, error) {
	f.calls.Add(1)
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for p := f.peak.Load(); n > p && !f.peak.CompareAndSwap(p, n); p = f.peak.Load() {
	}
	if progress != nil {
		progress("Reading 37 articles from 9 sources…")
	}
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return digest.Briefing{}, ctx.Err()
	}
	return testBriefing(req, f.stories), nil
}

func (f *fakeService) AddTopic(ctx context.Context, t digest.Topic) (int, error) {
	return 0, errors.New("not used")
}

func (f *fakeService) AddSource(ctx context.Context, s digest.Source) (digest.Source, error) {
	return s, errors.New("not used")
}

func (f *fakeService) NextSlot(spec, zone string, after time.Time) (time.Time, string, error) {
	s, err := schedule.Parse(spec, zone)
	if err != nil {
		return time.Time{}, "", err
	}
	return s.Next(after), schedule.Describe(s), nil
}

// testBriefing has n stories; with a large n it needs several messages.
func testBriefing(req BriefRequest, n int) digest.Briefing {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	b := digest.Briefing{Topic: req.Topic, Query: req.Query, From: now.Add(-24 * time.Hour), To: now, Summarizer: digest.SummarizerExtractive,
		Lede: fmt.Sprintf("%d stories on @everyone's topic", n)}
	for i := range n {
		a := digest.Article{ID: fmt.Sprint("a", i), Outlet: "Outlet", Title: fmt.Sprintf("Story %d", i), URL: fmt.Sprintf("https://news.example/%d", i), Published: now}
		b.Stories = append(b.Stories, digest.BriefStory{
			Story:    digest.Story{ID: a.ID, Articles: []digest.Article{a}},
			Headline: a.Title,
			Bullets: []digest.Bullet{
				{Text: strings.Repeat(fmt.Sprintf("Sentence of story %d, long enough to fill the embed. ", i), 12), Citations: []int{0}},
				{Text: "Second bullet <@123> pings nobody.", Citations: []int{0}},
			},
		})
	}
	return b
}

type env struct {
	t     *testing.T
	srv   *fakediscord.Server
	store *sqlstore.Store
	svc   *fakeService
	bot   *Bot
	topic digest.Topic
	stop  func()
	// configure, if set, adjusts the Config of every bot newBot makes.
	configure func(*Config)
	// log, if set, is the logger of every bot newBot makes (default: a
	// discarding one).
	log *slog.Logger
}

// newEnv starts a fake Discord, adjusted by each of opts, and a bot
// for it (not running).
func newEnv(t *testing.T, svc *fakeService, opts ...func(*fakediscord.Options)) *env {
	t.Helper()
	o := fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: token, Guilds: []string{testGuild}}
	for _, f := range opts {
		f(&o)
	}
	srv := fakediscord.New(t, o)
	srv.AddChannel(fakediscord.Channel{ID: testChannel, GuildID: testGuild, Name: "news"})
	store, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	topic, err := store.AddTopic(context.Background(), digest.Topic{Name: "korea-talks", Query: `"north korea"`, Origin: digest.OriginConfig})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, store: store, svc: svc, topic: topic}
	e.bot = e.newBot()
	return e
}

func (e *env) newBot() *Bot {
	cfg := Config{Token: token, APIURL: e.srv.URL(), Transport: e.srv.Client().Transport}
	if e.configure != nil {
		e.configure(&cfg)
	}
	log := e.log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	b, err := New(cfg, e.store, e.svc, log)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// start runs the bot until the test ends.
func (e *env) start() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.bot.Run(ctx) }()
	var once sync.Once
	e.stop = func() { once.Do(func() { cancel(); <-done }) }
	e.t.Cleanup(e.stop)
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := e.srv.WaitReady(wctx); err != nil {
		e.t.Fatal(err)
	}
	// Commands are registered after READY.
	deadline := time.Now().Add(5 * time.Second)
	guild := e.bot.cfg.GuildID
	for len(e.srv.Commands(guild)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(e.srv.Commands(guild)) == 0 {
		e.t.Fatal("commands not registered")
	}
}

func (e *env) send(i fakediscord.Interaction) fakediscord.SentInteraction {
	e.t.Helper()
	if i.GuildID == "" {
		i.GuildID = testGuild
	}
	if i.ChannelID == "" {
		i.ChannelID = testChannel
	}
	sent, err := e.srv.SendInteraction(i)
	if err != nil {
		e.t.Fatal(err)
	}
	return sent
}

// reply waits for an interaction's answer and decodes its callback.
func (e *env) reply(sent fakediscord.SentInteraction) (typ int, content string, flags int64) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r, err := e.srv.WaitInteractionResponse(ctx, sent.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var cb struct {
		Type int `json:"type"`
		Data struct {
			Content string `json:"content"`
			Flags   int64  `json:"flags"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &cb); err != nil {
		e.t.Fatal(err)
	}
	return cb.Type, cb.Data.Content, cb.Data.Flags
}

// answer waits for an interaction's final answer: an immediate reply, or
// a follow-up after a deferral. It returns its content and whether only
// the user sees it.
func (e *env) answer(sent fakediscord.SentInteraction) (content string, ephemeral bool) {
	e.t.Helper()
	typ, content, flags := e.reply(sent)
	if typ == int(discordgo.InteractionResponseChannelMessageWithSource) {
		return content, flags&int64(discordgo.MessageFlagsEphemeral) != 0
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range e.srv.InteractionResponses(sent.ID) {
			var body struct {
				Content string `json:"content"`
				Flags   int64  `json:"flags"`
			}
			if r.Method == "POST" && strings.Contains(r.Path, "/webhooks/") && json.Unmarshal(r.Body, &body) == nil {
				return body.Content, body.Flags&int64(discordgo.MessageFlagsEphemeral) != 0
			}
			if r.Method == "PATCH" && strings.HasSuffix(r.Path, "/@original") && json.Unmarshal(r.Body, &body) == nil && body.Content != "" {
				return body.Content, false
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("no answer to interaction %s", sent.ID)
	return "", false
}

const manageAll = fakediscord.DefaultPermissions | int64(discordgo.PermissionManageChannels) | int64(discordgo.PermissionManageGuild)

func TestBriefDefersWhileSummarizerIsSlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{delay: 10 * time.Second, stories: 2})
	e.start()
	start := time.Now()
	sent := e.send(fakediscord.Interaction{Name: "brief", Options: []fakediscord.Option{fakediscord.StringOption("topic", "korea-talks")}})
	typ, _, _ := e.reply(sent)
	if took := time.Since(start); typ != int(discordgo.InteractionResponseDeferredChannelMessageWithSource) || took > 3*time.Second {
		t.Fatalf("first answer: type %d after %s; want a deferral within 3s", typ, took)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var final fakediscord.Message
	for ctx.Err() == nil {
		m, err := e.srv.WaitResponseMessage(ctx, sent.ID)
		if err == nil && len(m.Embeds) > 0 {
			final = m
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(final.Embeds) == 0 {
		t.Fatal("the briefing never replaced the deferred message")
	}
	if string(final.AllowedMentions) != `{"parse":[],"replied_user":false}` {
		t.Errorf("allowed_mentions = %s", final.AllowedMentions)
	}
	if final.Mentions.Everyone || len(final.Mentions.Users) > 0 {
		t.Errorf("the briefing pings: %+v", final.Mentions)
	}
}

// TestBriefAnswersDoNotWaitForEachOther holds one edit of a deferred
// reply for 3 s: the other interaction's briefing is edited in meanwhile
// (discordgo's InteractionResponseEdit would queue it behind the held
// one, in the one bucket it files every interaction's edits under).
func TestBriefAnswersDoNotWaitForEachOther(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{stories: 1})
	e.start()
	e.srv.Inject("PATCH /webhooks/*/*/messages/@original", fakediscord.Fault{Delay: 3 * time.Second})
	brief := fakediscord.Interaction{Name: "brief", GuildID: testGuild, ChannelID: testChannel, Options: []fakediscord.Option{fakediscord.StringOption("topic", "korea-talks")}}
	sent, err := e.srv.SendInteractions([]fakediscord.Interaction{brief, brief})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first := time.Duration(-1)
	for ctx.Err() == nil && first < 0 {
		for _, si := range sent {
			for _, r := range e.srv.InteractionResponses(si.ID) {
				var body struct {
					Embeds []any `json:"embeds"`
				}
				if r.Method == "PATCH" && r.Status == 200 && r.Decode(&body) == nil && len(body.Embeds) > 0 {
					first = r.Answered.Sub(si.SentAt)
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if first < 0 || first > 1500*time.Millisecond {
		t.Errorf("the first briefing was edited in after %v; want the one whose edit was not held within 1.5 s", first)
	}
}

// TestBriefsBuiltAtMostMaxBriefsAtOnce: with MaxBriefs 2, six /brief
// at once are all deferred at once, built two at a time, and all
// answered.
func TestBriefsBuiltAtMostMaxBriefsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{delay: time.Second, stories: 1})
	e.configure = func(c *Config) { c.MaxBriefs = 2 }
	e.bot = e.newBot()
	e.start()
	brief := fakediscord.Interaction{Name: "brief", GuildID: testGuild, ChannelID: testChannel, Options: []fakediscord.Option{fakediscord.StringOption("topic", "korea-talks")}}
	sent, err := e.srv.SendInteractions(slices.Repeat([]fakediscord.Interaction{brief}, 6))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, si := range sent {
		cb, err := e.srv.WaitInteractionResponse(ctx, si.ID)
		if err != nil {
			t.Fatal(err)
		}
		if took := cb.Answered.Sub(si.SentAt); took > time.Second {
			t.Errorf("interaction %s deferred after %v; want at once, before its turn to be built", si.ID, took)
		}
	}
	for _, si := range sent {
		for {
			m, err := e.srv.WaitResponseMessage(ctx, si.ID)
			if err != nil {
				t.Fatalf("no briefing for %s: %v", si.ID, err)
			}
			if len(m.Embeds) > 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if peak := e.svc.peak.Load(); peak != 2 {
		t.Errorf("at most %d briefings built at once, want 2 (MaxBriefs)", peak)
	}
}

// slowTopics is a Store whose topic lookups take delay.
type slowTopics struct {
	Store
	delay time.Duration
}

func (s slowTopics) Topic(ctx context.Context, name string) (digest.Topic, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return digest.Topic{}, ctx.Err()
	}
	return s.Store.Topic(ctx, name)
}

// TestBriefDefersWhileStoreIsSlow: with topic lookups taking 2 s, /brief
// is deferred within checkBeforeDefer and then answered, with the
// briefing or, for an unknown topic, an ephemeral error.
func TestBriefDefersWhileStoreIsSlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{stories: 1})
	b, err := New(Config{Token: token, APIURL: e.srv.URL(), Transport: e.srv.Client().Transport},
		slowTopics{Store: e.store, delay: 2 * time.Second}, e.svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	e.bot = b
	e.start()
	str := fakediscord.StringOption
	known := e.send(fakediscord.Interaction{Name: "brief", Options: []fakediscord.Option{str("topic", "korea-talks")}})
	unknown := e.send(fakediscord.Interaction{Name: "brief", Options: []fakediscord.Option{str("topic", "nope")}})
	for _, si := range []fakediscord.SentInteraction{known, unknown} {
		typ, _, _ := e.reply(si)
		cb, _ := e.srv.WaitInteractionResponse(context.Background(), si.ID)
		if took := cb.Answered.Sub(si.SentAt); typ != int(discordgo.InteractionResponseDeferredChannelMessageWithSource) || took > checkBeforeDefer+500*time.Millisecond {
			t.Errorf("interaction %s: callback type %d after %v; want a deferral within %v", si.ID, typ, took, checkBeforeDefer+500*time.Millisecond)
		}
	}
	if content, ephemeral := e.answer(unknown); !ephemeral || !strings.Contains(content, `no topic "nope"`) {
		t.Errorf("unknown topic: answer %q (ephemeral %v); want an ephemeral error", content, ephemeral)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		m, err := e.srv.WaitResponseMessage(ctx, known.ID)
		if err != nil {
			t.Fatalf("no briefing: %v", err)
		}
		if len(m.Embeds) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBriefTwoMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{stories: 14})
	e.start()
	sent := e.send(fakediscord.Interaction{Name: "brief", Options: []fakediscord.Option{fakediscord.StringOption("query", "north korea")}})
	e.reply(sent)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := e.srv.WaitMessages(ctx, testChannel, 2)
	if err != nil {
		t.Fatalf("want the briefing in at least 2 messages: %v", err)
	}
	stories := 0
	for _, m := range msgs {
		if string(m.AllowedMentions) != `{"parse":[],"replied_user":false}` {
			t.Errorf("message %s allowed_mentions = %s", m.ID, m.AllowedMentions)
		}
		for _, raw := range m.Embeds {
			var em discordgo.MessageEmbed
			json.Unmarshal(raw, &em)
			if strings.HasPrefix(em.Title, "Story ") {
				stories++
			}
		}
	}
	if stories != 14 {
		t.Errorf("%d story embeds across %d messages, want 14", stories, len(msgs))
	}
}

func TestCommandErrorsAreEphemeral(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{})
	e.start()
	str := fakediscord.StringOption
	tests := []struct {
		name string
		i    fakediscord.Interaction
		want string
	}{
		{"unknown topic", fakediscord.Interaction{Name: "brief", Options: []fakediscord.Option{str("topic", "nope")}}, `no topic "nope"`},
		{"empty query", fakediscord.Interaction{Name: "brief"}, "Give a topic"},
		{"malformed query", fakediscord.Interaction{Name: "brief", Options: []fakediscord.Option{str("query", `"north korea`)}}, "query"},
		{"no permission", fakediscord.Interaction{Name: "subscribe", Options: []fakediscord.Option{str("topic", "korea-talks"), str("schedule", "daily 08:00"), str("timezone", "Asia/Seoul")}}, "Manage Channels"},
		{"bad schedule", fakediscord.Interaction{Name: "subscribe", Permissions: manageAll, Options: []fakediscord.Option{str("topic", "korea-talks"), str("schedule", "daily 25:00"), str("timezone", "Asia/Seoul")}}, "25"},
		{"unknown time zone", fakediscord.Interaction{Name: "subscribe", Permissions: manageAll, Options: []fakediscord.Option{str("topic", "korea-talks"), str("schedule", "daily 08:00"), str("timezone", "Asia/Seol")}}, "Asia/Seol"},
		{"forbidden channel", fakediscord.Interaction{Name: "subscribe", Permissions: manageAll, Options: []fakediscord.Option{str("topic", "korea-talks"), str("schedule", "daily 08:00"), str("timezone", "Asia/Seoul"), fakediscord.ChannelOption("channel", "200000000000000009")}}, "can't see"},
		{"topic add without permission", fakediscord.Interaction{Name: "topics", Options: []fakediscord.Option{fakediscord.SubCommand("add", str("name", "x"), str("query", "y"))}}, "Manage Server"},
		{"unknown subscription", fakediscord.Interaction{Name: "unsubscribe", Permissions: manageAll, Options: []fakediscord.Option{str("subscription", "999")}}, "no subscription #999"},
	}
	e.srv.AddChannel(fakediscord.Channel{ID: "200000000000000009", GuildID: testGuild, Name: "secret"})
	e.srv.MarkChannelForbidden("200000000000000009")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content, ephemeral := e.answer(e.send(tt.i))
			if !ephemeral || !strings.Contains(content, tt.want) {
				t.Errorf("answer %q (ephemeral %v); want an ephemeral answer containing %q", content, ephemeral, tt.want)
			}
		})
	}
}

func TestSubscribeUnsubscribeAndAutocomplete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{})
	e.bot.cfg.MaxSubscriptions = 2
	e.start()
	str := fakediscord.StringOption

	typ, content, _ := e.reply(e.send(fakediscord.Interaction{Type: fakediscord.InteractionAutocomplete, Name: "subscribe",
		Options: []fakediscord.Option{fakediscord.Focused(str("topic", "kor"))}}))
	if typ != int(discordgo.InteractionApplicationCommandAutocompleteResult) {
		t.Fatalf("autocomplete answer type %d", typ)
	}
	_ = content
	choices := lastChoices(t, e)
	if len(choices) != 1 || choices[0] != "korea-talks" {
		t.Errorf("topic choices = %v", choices)
	}

	content, ephemeral := e.answer(e.send(fakediscord.Interaction{Name: "subscribe", Permissions: manageAll,
		Options: []fakediscord.Option{str("topic", "korea-talks"), str("schedule", "daily 08:00"), str("timezone", "Asia/Seoul")}}))
	if ephemeral || !strings.Contains(content, "Subscribed <#"+testChannel+">") || !strings.Contains(content, "<t:") || strings.Contains(content, "daylight") {
		t.Fatalf("subscribe answer (ephemeral %v): %q", ephemeral, content)
	}
	// A zone with DST: the reply says how skipped and repeated times are handled.
	content, _ = e.answer(e.send(fakediscord.Interaction{Name: "subscribe", Permissions: manageAll,
		Options: []fakediscord.Option{str("topic", "korea-talks"), str("schedule", "daily 02:30"), str("timezone", "America/New_York"),
			str("catchup", "skip"), str("nothing_new", "post")}}))
	if !strings.Contains(content, "doesn't exist posts at the first valid time") {
		t.Errorf("subscribe in a DST zone: %q", content)
	}
	// Over the guild's limit (2 here).
	_, content, _ = e.reply(e.send(fakediscord.Interaction{Name: "subscribe", Permissions: manageAll,
		Options: []fakediscord.Option{str("topic", "korea-talks"), str("schedule", "daily 09:00"), str("timezone", "Asia/Seoul")}}))
	if !strings.Contains(content, "the most allowed") {
		t.Errorf("subscribe over the limit: %q", content)
	}
	subs, _ := e.store.Subscriptions(context.Background(), testGuild)
	if len(subs) != 2 || subs[0].TimeZone != "Asia/Seoul" || subs[0].NextSlot.IsZero() {
		t.Fatalf("stored subscriptions = %+v", subs)
	}
	if subs[0].CatchUp != digest.CatchUpLate || subs[0].NothingNew != digest.NothingNewSkip ||
		subs[1].CatchUp != digest.CatchUpSkip || subs[1].NothingNew != digest.NothingNewPost {
		t.Errorf("options stored: %s/%s and %s/%s", subs[0].CatchUp, subs[0].NothingNew, subs[1].CatchUp, subs[1].NothingNew)
	}

	_, content, _ = e.reply(e.send(fakediscord.Interaction{Name: "subscriptions"}))
	if !strings.Contains(content, "korea-talks") || !strings.Contains(content, "next <t:") ||
		strings.Count(content, "missed briefings skipped") != 1 || strings.Count(content, "says when nothing is new") != 1 {
		t.Errorf("/subscriptions: %q", content)
	}
	// Another guild cannot remove it.
	_, content, _ = e.reply(e.send(fakediscord.Interaction{Name: "unsubscribe", GuildID: otherGuild, Permissions: manageAll, Options: []fakediscord.Option{str("subscription", fmt.Sprint(subs[0].ID))}}))
	if !strings.Contains(content, "no subscription") {
		t.Errorf("unsubscribe from another guild: %q", content)
	}
	_, content, _ = e.reply(e.send(fakediscord.Interaction{Name: "unsubscribe", Permissions: manageAll, Options: []fakediscord.Option{str("subscription", fmt.Sprint(subs[0].ID))}}))
	if !strings.Contains(content, "Removed subscription") {
		t.Errorf("unsubscribe: %q", content)
	}
}

// lastChoices decodes the newest autocomplete result's choice values.
func lastChoices(t *testing.T, e *env) []string {
	t.Helper()
	reqs := e.srv.RequestsTo("POST /interactions/*/*/callback")
	var cb struct {
		Data struct {
			Choices []struct {
				Value string `json:"value"`
			} `json:"choices"`
		} `json:"data"`
	}
	if len(reqs) == 0 || json.Unmarshal(reqs[len(reqs)-1].Body, &cb) != nil {
		t.Fatal("no autocomplete result")
	}
	var out []string
	for _, c := range cb.Data.Choices {
		out = append(out, c.Value)
	}
	return out
}

func TestDuplicateInteractionAnsweredOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{})
	e.start()
	sent := e.send(fakediscord.Interaction{Name: "subscriptions"})
	e.reply(sent)
	// Discord re-delivers the same INTERACTION_CREATE.
	e.srv.Dispatch("INTERACTION_CREATE", sent.Payload)
	time.Sleep(300 * time.Millisecond)
	if n := len(e.srv.InteractionResponses(sent.ID)); n != 1 {
		t.Errorf("%d responses to one interaction, want 1", n)
	}
}

// subscription stores a subscription of the test channel.
func (e *env) subscription() digest.Subscription {
	e.t.Helper()
	sub, err := e.store.AddSubscription(context.Background(), digest.Subscription{
		GuildID: testGuild, ChannelID: testChannel, TopicID: e.topic.ID, Topic: e.topic.Name,
		Schedule: "daily 08:00", TimeZone: "Asia/Seoul", CatchUp: digest.CatchUpLate, NextSlot: time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// deliver does what the build and deliver jobs do for one slot: build
// and record the briefing unless the slot is recorded already, then post
// it (resuming when it was recorded before), and reload sub.
func (e *env) deliver(sub *digest.Subscription, slot time.Time) error {
	ctx := context.Background()
	key := digest.DeliveryKey(sub.ID, slot.In(mustZone(e.t, sub.TimeZone)))
	_, err := e.store.Delivery(ctx, key)
	if errors.Is(err, digest.ErrNotFound) {
		br, err := e.svc.Brief(ctx, BriefRequest{GuildID: sub.GuildID, Topic: sub.Topic, Since: 24 * time.Hour, To: slot}, nil)
		if err != nil {
			return err
		}
		if _, _, err := e.bot.Record(ctx, *sub, slot, br); err != nil {
			return err
		}
	}
	err = e.bot.Post(ctx, *sub, slot)
	if got, gerr := e.store.Subscription(ctx, sub.ID); gerr == nil {
		*sub = got
	}
	return err
}

func TestDeliverOnceWith429(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{stories: 2})
	e.start()
	sub := e.subscription()
	e.srv.Inject("POST /channels/*/messages", fakediscord.Fault{Status: 429, RetryAfter: 0.2})
	slot := sub.NextSlot
	if err := e.deliver(&sub, slot); err != nil {
		t.Fatal(err)
	}
	if err := e.deliver(&sub, slot); err != nil {
		t.Fatal(err)
	}
	msgs := e.srv.Messages(testChannel)
	if len(msgs) != 1 {
		t.Fatalf("%d messages after a 429 and a repeated delivery, want 1", len(msgs))
	}
	if string(msgs[0].AllowedMentions) != `{"parse":[],"replied_user":false}` {
		t.Errorf("allowed_mentions = %s", msgs[0].AllowedMentions)
	}
	if e.svc.calls.Load() != 1 || !sub.LastDelivered.Equal(slot) {
		t.Errorf("briefings built %d, last delivered %v", e.svc.calls.Load(), sub.LastDelivered)
	}
}

func TestDeliverResumesHalfPostedBriefing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{stories: 14})
	e.start()
	sub := e.subscription()
	slot := sub.NextSlot
	// The second part fails with 500 every time the first bot tries it.
	e.srv.Inject("POST /channels/*/messages", fakediscord.Fault{}, // first part passes
		fakediscord.Fault{Status: 500}, fakediscord.Fault{Status: 500}, fakediscord.Fault{Status: 500}, fakediscord.Fault{Status: 500})
	if err := e.deliver(&sub, slot); err == nil {
		t.Fatal("delivery through repeated 500s succeeded")
	}
	if n := len(e.srv.Messages(testChannel)); n != 1 {
		t.Fatalf("after the failure %d messages, want 1", n)
	}

	// Restart: a new bot on the same store finishes the delivery.
	e.stop()
	e.bot = e.newBot()
	e.start()
	if err := e.deliver(&sub, slot); err != nil {
		t.Fatal(err)
	}
	msgs := e.srv.Messages(testChannel)
	if len(msgs) < 2 {
		t.Fatalf("after resuming %d messages, want all parts", len(msgs))
	}
	d, err := e.store.Delivery(context.Background(), digest.DeliveryKey(sub.ID, slot.In(mustZone(t, "Asia/Seoul"))))
	if err != nil || d.State != digest.DeliveryDone || len(d.MessageIDs) != len(msgs) || d.Parts != len(msgs) {
		t.Errorf("delivery %+v (%v); %d messages in the channel", d, err, len(msgs))
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if seen[string(m.Raw)] {
			t.Errorf("part posted twice: %s", m.ID)
		}
		seen[string(m.Raw)] = true
	}
	if e.svc.calls.Load() != 1 {
		t.Errorf("briefing built %d times, want once (the resumed delivery reuses the stored parts)", e.svc.calls.Load())
	}
	if n := len(e.srv.RequestsTo("PUT /applications/*/commands")); n != 1 {
		t.Errorf("commands overwritten %d times over two starts, want once (unchanged definitions)", n)
	}
}

func TestDeliverFindsPartPostedButNotRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{stories: 14})
	e.start()
	sub := e.subscription()
	slot := sub.NextSlot
	// The second part reaches Discord, but the answer comes too late for
	// the client, which times out: the part is posted, not recorded.
	e.bot.session.Client.Timeout = 500 * time.Millisecond
	e.srv.Inject("POST /channels/*/messages", fakediscord.Fault{}, fakediscord.Fault{Delay: 800 * time.Millisecond}) // created before the retry looks for it
	if err := e.deliver(&sub, slot); err != nil {
		t.Fatal(err)
	}
	msgs := e.srv.Messages(testChannel)
	d, _ := e.store.Delivery(context.Background(), digest.DeliveryKey(sub.ID, slot.In(mustZone(t, "Asia/Seoul"))))
	if d.State != digest.DeliveryDone || len(d.MessageIDs) != d.Parts || len(msgs) != d.Parts {
		t.Errorf("delivery %s with %d of %d parts recorded; %d messages in the channel", d.State, len(d.MessageIDs), d.Parts, len(msgs))
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if seen[string(m.Raw)] {
			t.Errorf("part posted twice: %s", m.ID)
		}
		seen[string(m.Raw)] = true
	}
}

func TestDeliverSkipsWhenNothingNew(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{stories: 0})
	e.start()
	sub := e.subscription()
	if err := e.deliver(&sub, sub.NextSlot); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Messages(testChannel)); n != 0 {
		t.Errorf("%d messages for a slot with nothing new, want none", n)
	}
	d, err := e.store.Delivery(context.Background(), digest.DeliveryKey(sub.ID, sub.NextSlot.In(mustZone(t, "Asia/Seoul"))))
	if err != nil || d.State != digest.DeliveryDone || d.Parts != 0 || !sub.LastDelivered.IsZero() {
		t.Errorf("delivery %+v (%v), last delivered %v", d, err, sub.LastDelivered)
	}
}

func TestDeliverPausesOnForbiddenChannel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{stories: 1})
	e.start()
	sub := e.subscription()
	e.srv.MarkChannelForbidden(testChannel)
	if err := e.deliver(&sub, sub.NextSlot); err != nil {
		t.Fatal(err)
	}
	if want := "briefbot can't see the channel (Discord: 50001 Missing Access): grant it View Channel, Send Messages, Embed Links and Read Message History, then run the same /subscribe to resume"; !sub.Paused || sub.PauseReason != want {
		t.Errorf("subscription paused %v with reason\n%q\nwant\n%q", sub.Paused, sub.PauseReason, want)
	}
}

func TestPostSaysWhenLate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{stories: 1})
	e.start()
	sub := e.subscription()
	onTime := time.Now().Add(-time.Minute)
	late := time.Now().Add(-3 * time.Hour)
	for _, slot := range []time.Time{onTime, late} {
		if err := e.deliver(&sub, slot); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.srv.Messages(testChannel)
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	if strings.Contains(msgs[0].Content, "Late:") {
		t.Errorf("on-time post says it is late: %q", msgs[0].Content)
	}
	if want := fmt.Sprintf("-# Late: this briefing was due <t:%d:f>.", late.Unix()); !strings.HasPrefix(msgs[1].Content, want) {
		t.Errorf("late post content %q, want it to start %q", msgs[1].Content, want)
	}
}

func TestNothingNewLine(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{stories: 0})
	e.start()
	sub := e.subscription()
	sub.NothingNew = digest.NothingNewPost
	if err := e.deliver(&sub, time.Now()); err != nil {
		t.Fatal(err)
	}
	msgs := e.srv.Messages(testChannel)
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Content, "-# Nothing new on korea-talks since <t:") || len(msgs[0].Embeds) != 0 {
		t.Fatalf("messages %+v, want one nothing-new line", msgs)
	}
	if string(msgs[0].AllowedMentions) != `{"parse":[],"replied_user":false}` {
		t.Errorf("allowed_mentions = %s", msgs[0].AllowedMentions)
	}
}

func TestNoticePostedOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{})
	e.start()
	ctx := context.Background()
	for range 3 {
		if err := e.bot.Notice(ctx, "notice:test:1", testChannel, "briefbot stopped polling **@everyone**"); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.srv.Messages(testChannel)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Content, "stopped polling") {
		t.Fatalf("messages %+v, want the notice once", msgs)
	}
	if string(msgs[0].AllowedMentions) != `{"parse":[],"replied_user":false}` {
		t.Errorf("allowed_mentions = %s", msgs[0].AllowedMentions)
	}
	e.srv.MarkChannelForbidden("200000000000000999")
	if err := e.bot.Notice(ctx, "notice:test:2", "200000000000000999", "x"); err != nil {
		t.Errorf("a refused notice: %v, want it given up quietly", err)
	}
}

func TestBadToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{})
	b, err := New(Config{Token: "wrong", APIURL: e.srv.URL(), Transport: e.srv.Client().Transport}, e.store, e.svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Run(ctx); !errors.Is(err, ErrBadToken) {
		t.Errorf("Run with a bad token: %v, want ErrBadToken", err)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestFindPartsPagesBack: a part posted hours ago is found behind more
// than a page of later messages.
func TestFindPartsPagesBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{})
	e.start()
	ctx := context.Background()
	part, err := e.bot.session.ChannelMessageSend(testChannel, "briefing\n-# ref 0badcafe-2")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 250 {
		if _, err := e.bot.session.ChannelMessageSend(testChannel, fmt.Sprintf("chatter %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	found, err := e.bot.findParts(ctx, testChannel, "0badcafe", time.Time{}) // the fake's snowflakes carry its own clock
	if err != nil {
		t.Fatal(err)
	}
	if found[1] != part.ID || len(found) != 1 {
		t.Errorf("found %v, want part 2 as %s", found, part.ID)
	}
}

// TestTokenWithBotPrefix: a DISCORD_TOKEN pasted with the "Bot " prefix
// (and a trailing newline) is accepted; briefbot adds the prefix itself.
func TestTokenWithBotPrefix(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{})
	e.configure = func(c *Config) { c.Token = "Bot " + token + "\n" }
	e.bot = e.newBot()
	e.start() // fails unless the gateway and REST accept the token

	for _, tt := range []struct{ name, in, want string }{
		{"bare", "abc.def.ghi", "abc.def.ghi"},
		{"prefix", "Bot abc.def.ghi", "abc.def.ghi"},
		{"lower-case prefix and spaces", "  bot  abc.def.ghi \n", "abc.def.ghi"},
		{"only the word", "Bot", "Bot"},
		{"a token starting with bot", "botabc", "botabc"},
	} {
		if got := bareToken(tt.in); got != tt.want {
			t.Errorf("%s: bareToken(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// Package discord is briefbot's Discord adapter: the gateway session
// (sharded or not) or the HTTP interactions endpoint, the slash commands
// and their replies, and exactly-once posting of briefings. It talks to
// the rest of briefbot through digest types and the Service and Store
// interfaces it declares.
package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/bwmarrin/discordgo"
)

// Service is what the bot asks of the rest of briefbot. cmd/bot implements
// it with the digest pipeline, the poller and the schedule package.
type Service interface {
	// Brief builds a briefing. progress, if not nil, receives short status
	// lines ("Reading 37 articles from 9 sources…"). A malformed query
	// yields a *digest.QueryError, an unknown topic an error wrapping
	// digest.ErrNotFound.
	Brief(ctx context.Context, req BriefRequest, progress func(string)) (digest.Briefing, error)
	// AddTopic validates and stores a topic, matches stored articles to
	// it, and returns how many match.
	AddTopic(ctx context.Context, t digest.Topic) (matched int, err error)
	// AddSource fetches and parses the feed (refusing private addresses,
	// what is not a feed and what is too large), then stores the source.
	AddSource(ctx context.Context, s digest.Source) (digest.Source, error)
	// NextSlot validates a schedule in a time zone and returns its next
	// slot after a time, and a description for people.
	NextSlot(spec, zone string, after time.Time) (next time.Time, describe string, err error)
}

// BriefRequest asks for one briefing.
type BriefRequest struct {
	GuildID  string
	Topic    string // a topic name, or "" with Query
	Query    string
	Since    time.Duration
	To       time.Time // end of the window; zero means now
	Language string
}

// Store is the persistence the bot reads and writes directly.
type Store interface {
	digest.SourceStore
	digest.TopicStore
	digest.SubscriptionStore
}

// Config configures a Bot.
type Config struct {
	// Token is the bot token (DISCORD_TOKEN). A "Bot " prefix, as many
	// guides show it, and surrounding space are dropped: briefbot adds
	// the prefix itself.
	Token string
	// APIURL is Discord's base URL (default https://discord.com); REST
	// calls and the gateway lookup go there, for REST proxies and tests.
	APIURL string
	// GuildID, when set, registers the commands in that guild only
	// (instant updates while developing) instead of globally.
	GuildID string
	// Per-guild limits (default 25 each).
	MaxTopics, MaxSources, MaxSubscriptions int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Transport is the base HTTP transport (default http.DefaultTransport).
	Transport http.RoundTripper
	// Timeout bounds each REST call (default 30s).
	Timeout time.Duration
	// LateAfter is how long after its slot a briefing is posted before it
	// says it is late (default 5m).
	LateAfter time.Duration
	// RetryWait is the first wait before posting a part again after a
	// 5xx or a timeout; it doubles each time (default 1s).
	RetryWait time.Duration
	// PublicKey is the application's public key (DISCORD_PUBLIC_KEY), in
	// hex, from the Developer Portal's General Information page. HTTP
	// interactions mode (InteractionsHandler, Serve) needs it to verify
	// that requests come from Discord; the gateway does not.
	PublicKey string
	// MaxBriefs bounds the /brief briefings built at once (default 16);
	// more wait their turn, deferred. Unbounded, a burst of briefings
	// (CPU work with the extractive summarizer) starves the goroutines
	// that defer the next interactions, and briefings on one topic all
	// ask the language model for the same stories before any summary is
	// cached (see cmd/bot TestPerfInteractions).
	MaxBriefs int
	// ShardID and ShardCount shard the gateway: this bot receives the
	// events of the guilds whose (guild_id >> 22) % ShardCount is
	// ShardID. ShardCount 0 or 1 means one unsharded connection. Only
	// shard 0 registers the slash commands, so that replicas do not
	// overwrite each other's.
	ShardID, ShardCount int
	// OnRateLimit, if not nil, is told of every 429 Discord answers a
	// REST request with, and how long discordgo waits before it tries
	// again. It must be quick and safe for concurrent use.
	OnRateLimit func(wait time.Duration)
}

// maxShards bounds Config.ShardCount; Discord asks for about one shard
// per 1000-2500 guilds.
const maxShards = 1000

// ErrBadToken reports that Discord rejected the bot token.
var ErrBadToken = errors.New("discord: DISCORD_TOKEN was rejected: check the bot token in the Discord Developer Portal (Bot → Reset Token)")

// Bot is a running Discord bot.
type Bot struct {
	cfg     Config
	store   Store
	service Service
	log     *slog.Logger
	session *discordgo.Session
	seen    *seenSet
	// previews holds the /brief previews that can still be posted.
	previews *previewSet
	// briefs holds a token per briefing being built (Config.MaxBriefs).
	briefs chan struct{}
	// publicKey verifies HTTP interactions; nil when not configured.
	publicKey ed25519.PublicKey

	// inflight tracks interaction handlers in flight, from the gateway
	// and from HTTP; Run and Serve wait for them (see Wait).
	inflight sync.WaitGroup

	mu     sync.Mutex
	appID  string
	userID string
}

// New returns a bot; Run connects it to the gateway, or Serve answers
// the interactions Discord POSTs to it over HTTP. It checks the shard
// settings and the public key.
func New(cfg Config, store Store, service Service, log *slog.Logger) (*Bot, error) {
	cfg.Token = bareToken(cfg.Token)
	if cfg.Token == "" {
		return nil, errors.New("discord: DISCORD_TOKEN is not set: create a bot in the Discord Developer Portal and export its token")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = "https://discord.com"
	}
	base, err := url.Parse(strings.TrimRight(cfg.APIURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("discord: bad API URL %q: want an absolute http(s) URL", cfg.APIURL)
	}
	for _, lim := range []*int{&cfg.MaxTopics, &cfg.MaxSources, &cfg.MaxSubscriptions} {
		if *lim <= 0 {
			*lim = 25
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Transport == nil {
		cfg.Transport = http.DefaultTransport
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.LateAfter <= 0 {
		cfg.LateAfter = 5 * time.Minute
	}
	if cfg.RetryWait <= 0 {
		cfg.RetryWait = time.Second
	}
	if cfg.MaxBriefs <= 0 {
		cfg.MaxBriefs = 16
	}
	if cfg.ShardCount == 0 {
		cfg.ShardCount = 1
	}
	switch {
	case cfg.ShardCount < 0 || cfg.ShardCount > maxShards:
		return nil, fmt.Errorf("discord: bad shard count %d: want 1 to %d (0 means unsharded)", cfg.ShardCount, maxShards)
	case cfg.ShardID < 0 || cfg.ShardID >= cfg.ShardCount:
		return nil, fmt.Errorf("discord: bad shard ID %d for %d shards: want 0 <= shard ID < shard count", cfg.ShardID, cfg.ShardCount)
	}
	var key ed25519.PublicKey
	if cfg.PublicKey != "" {
		k, err := hex.DecodeString(strings.TrimSpace(cfg.PublicKey))
		if err != nil || len(k) != ed25519.PublicKeySize {
			return nil, errors.New("discord: DISCORD_PUBLIC_KEY is not an Ed25519 public key (64 hex digits): copy it from the Discord Developer Portal (General Information → Public Key)")
		}
		key = k
	}
	installDGLog()
	s, err := discordgo.New("Bot " + cfg.Token)
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	dglog.made(log, cfg.Token)
	s.LogLevel = dgLogLevel
	s.Client = &http.Client{Timeout: cfg.Timeout, Transport: rewriteTransport{base: base, next: cfg.Transport}}
	s.StateEnabled = false
	s.Identify.Intents = discordgo.IntentsGuilds
	s.ShouldReconnectOnError = true
	s.MaxRestRetries = 3
	s.ShardID, s.ShardCount = cfg.ShardID, cfg.ShardCount
	if cfg.OnRateLimit != nil {
		s.AddHandler(func(_ *discordgo.Session, rl *discordgo.RateLimit) {
			var wait time.Duration
			if rl.TooManyRequests != nil {
				wait = rl.RetryAfter
			}
			cfg.OnRateLimit(wait)
		})
	}
	b := &Bot{cfg: cfg, store: store, service: service, log: log, session: s, seen: newSeenSet(15 * time.Minute), publicKey: key,
		previews: newPreviewSet(previewTTL, maxPreviews),
		briefs:   make(chan struct{}, cfg.MaxBriefs)}
	return b, nil
}

// bareToken is a bot token without surrounding space and without the
// "Bot " prefix (any case) that the Authorization header carries and
// that people paste with the token.
func bareToken(t string) string {
	t = strings.TrimSpace(t)
	if len(t) > 4 && strings.EqualFold(t[:4], "bot ") {
		t = strings.TrimSpace(t[4:])
	}
	return t
}

// rewriteTransport sends requests for https://discord.com to the configured
// base URL instead, so no package-level endpoint variable is changed.
type rewriteTransport struct {
	base *url.URL
	next http.RoundTripper
}

func (t rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == "discord.com" && (t.base.Host != "discord.com" || t.base.Scheme != "https") {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = t.base.Scheme, t.base.Host
		r.URL.Path = strings.TrimRight(t.base.Path, "/") + r.URL.Path
		r.Host = t.base.Host
	}
	return t.next.RoundTrip(r)
}

// Run connects to Discord, registers the commands and serves interactions
// until ctx is done. A rejected token stops it with ErrBadToken instead of
// reconnecting forever.
func (b *Bot) Run(ctx context.Context) error {
	defer dglog.attach(b.log, b.cfg.Token)()
	me, err := b.session.User("@me", discordgo.WithContext(ctx))
	if err != nil {
		if restStatus(err) == http.StatusUnauthorized {
			return ErrBadToken
		}
		return fmt.Errorf("discord: check token: %w", err)
	}
	b.mu.Lock()
	b.userID = me.ID
	b.mu.Unlock()
	ready := make(chan struct{})
	var once sync.Once
	b.session.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
		b.mu.Lock()
		b.userID = r.User.ID
		if r.Application != nil {
			b.appID = r.Application.ID
		}
		if b.appID == "" {
			b.appID = r.User.ID
		}
		b.mu.Unlock()
		once.Do(func() { close(ready) })
	})
	// Handlers get a context that outlives shutdown briefly, so an answer
	// in progress is still sent; Run waits for them before returning.
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		stop := time.AfterFunc(10*time.Second, hcancel)
		b.inflight.Wait()
		stop.Stop()
		hcancel()
	}()
	b.session.AddHandler(func(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
		if ctx.Err() != nil {
			return
		}
		b.inflight.Add(1)
		defer b.inflight.Done()
		b.handle(hctx, &call{i: ic.Interaction})
	})
	// discordgo reconnects forever, even when Discord closed the gateway
	// because the token was revoked (4004): check the token on every
	// disconnect and stop if it is rejected. Closing the session on the
	// way out disconnects it too; that is no news, and nothing reconnects.
	fatal := make(chan error, 1)
	var closing atomic.Bool
	b.session.AddHandler(func(s *discordgo.Session, _ *discordgo.Disconnect) {
		if closing.Load() || ctx.Err() != nil {
			return
		}
		b.log.Warn("discord gateway disconnected; reconnecting")
		if _, err := s.User("@me", discordgo.WithContext(ctx)); restStatus(err) == http.StatusUnauthorized {
			select {
			case fatal <- ErrBadToken:
			default:
			}
		}
	})
	if err := b.session.Open(); err != nil {
		if isAuthClose(err) {
			return ErrBadToken
		}
		return fmt.Errorf("discord: open gateway: %w", err)
	}
	defer func() {
		closing.Store(true)
		b.session.Close()
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		return errors.New("discord: no READY from the gateway within 30s")
	case <-ctx.Done():
		return nil
	}
	registered, err := b.registerCommands(ctx)
	if err != nil {
		return err
	}
	// One line says the bot is up. It is INFO, not WARN: nothing needs
	// attention, and warn (the default level) stays quiet on success.
	who := me.String()
	if b.cfg.ShardCount > 1 {
		who += fmt.Sprintf(" (shard %d of %d)", b.cfg.ShardID, b.cfg.ShardCount)
	}
	b.log.Info(fmt.Sprintf("connected to Discord as %s; %s", who, registered),
		"user", me.String(), "shard", b.cfg.ShardID, "shard_count", b.cfg.ShardCount)
	select {
	case <-ctx.Done():
		return nil
	case err := <-fatal:
		return err
	}
}

func isAuthClose(err error) bool {
	return strings.Contains(err.Error(), "4004")
}

// restStatus returns the HTTP status of a discordgo REST error, or 0.
func restStatus(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}

func (b *Bot) ids() (appID, userID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.appID, b.userID
}

// ensureIDs returns the application and bot user IDs, asking Discord's
// REST API for those not known yet (GET /users/@me and GET
// /oauth2/applications/@me), so that a bot without a gateway session
// (HTTP interactions mode, a replica that only posts) knows them too.
func (b *Bot) ensureIDs(ctx context.Context) (appID, userID string, err error) {
	appID, userID = b.ids()
	if userID == "" {
		me, err := b.session.User("@me", discordgo.WithContext(ctx))
		if err != nil {
			return "", "", fmt.Errorf("get bot user: %w", err)
		}
		userID = me.ID
	}
	if appID == "" {
		endpoint := discordgo.EndpointOAuth2Application("@me")
		body, err := b.session.RequestWithBucketID(http.MethodGet, endpoint, nil, endpoint, discordgo.WithContext(ctx))
		if err != nil {
			return "", "", fmt.Errorf("get application: %w", err)
		}
		var app discordgo.Application
		if err := json.Unmarshal(body, &app); err != nil || app.ID == "" {
			return "", "", fmt.Errorf("get application: bad answer %.100q", body)
		}
		appID = app.ID
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.userID == "" {
		b.userID = userID
	}
	if b.appID == "" {
		b.appID = appID
	}
	return b.appID, b.userID, nil
}

// Connected reports whether Run's gateway session is up: READY or
// RESUMED received and heartbeats going. It is false before Run
// connects, while it reconnects, after it returns, and in HTTP
// interactions mode. It never waits long: a session busy (re)connecting
// counts as down.
func (b *Bot) Connected() bool {
	// Events are handled on goroutines of their own, in no set order, so
	// the session's own flag is read rather than READY and Disconnect
	// events counted. Open holds the session's lock while it dials.
	for range 20 {
		if b.session.TryRLock() {
			up := b.session.DataReady
			b.session.RUnlock()
			return up
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// Wait blocks until the interaction handlers in flight have returned.
// Run and Serve call it before they return; a caller that serves
// InteractionsHandler on its own http.Server calls it after shutting
// that server down.
func (b *Bot) Wait() { b.inflight.Wait() }

// seenSet remembers interaction IDs for a while, so an interaction
// delivered twice is answered once.
type seenSet struct {
	mu  sync.Mutex
	ttl time.Duration
	at  map[string]time.Time
}

func newSeenSet(ttl time.Duration) *seenSet {
	return &seenSet{ttl: ttl, at: make(map[string]time.Time)}
}

// add records id and reports whether it was new.
func (s *seenSet) add(id string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.at) > 1000 {
		for k, t := range s.at {
			if now.Sub(t) > s.ttl {
				delete(s.at, k)
			}
		}
	}
	if t, ok := s.at[id]; ok && now.Sub(t) <= s.ttl {
		return false
	}
	s.at[id] = now
	return true
}

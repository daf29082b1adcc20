// Package fakediscord is a fake Discord for end-to-end tests: one httptest
// server that speaks Discord's REST API (under /api/v9/ and /api/v10/; the
// real discordgo v0.29.0 uses v9) and its gateway websocket, so that the real
// discordgo client, pointed at it through an HTTP client whose transport
// rewrites https://discord.com/ to the fake, logs in, receives READY and
// INTERACTION_CREATE, answers interactions and posts messages exactly as it
// would against Discord.
//
// The fake answers with Discord's own JSON bodies and error codes (Unknown
// Channel 10003, Missing Access 50001, Invalid Form Body 50035 with nested
// errors, Unknown interaction 10062, …), sends the X-RateLimit-* headers on
// every routed response and enforces the limit it advertises, checks message
// and embed limits, computes which mentions a message would ping under its
// allowed_mentions, and records every request with when it arrived and
// when it was answered; Options.Latency adds a round trip to Discord to
// each. Interactions can be sent one at a time or as a burst
// ([Server.SendInteractions]). Messages keep their components (action
// rows of buttons, checked against Discord's limits); [Click] builds a
// click on a button, sent as a MESSAGE_COMPONENT interaction that may be
// answered by updating the message (type 7). The bot's permissions in a
// channel ([Server.SetBotPermissions]) decide whether it may post there
// and are sent as app_permissions. It can also deliver
// interactions the way Discord does to an Interactions Endpoint URL:
// signed HTTP POSTs whose answers are handled as interaction callbacks
// (see [Server.PostInteraction]). Faults (429, 5xx, slow or
// dropped responses) are scripted per route with [Server.Inject]; the
// gateway can be dropped or closed with a close code to exercise reconnects
// and resumes.
//
// A Server holds no package-level state, is safe for concurrent use, and
// stops every goroutine it started when the test that created it ends.
package fakediscord

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Options configures a Server. The zero Options is usable.
type Options struct {
	// AppID is the application ID; it defaults to a generated snowflake.
	AppID string
	// BotUserID is the bot user's ID; it defaults to AppID, as for every
	// application created since 2021.
	BotUserID string
	// Token is the valid bot token, without the "Bot " prefix; it defaults
	// to "fake-bot-token". REST requests must send "Authorization: Bot
	// <Token>"; IDENTIFY and RESUME must carry it (with or without the
	// prefix).
	Token string
	// Guilds are the IDs of the guilds the bot is in: listed (unavailable)
	// in READY and each followed by a GUILD_CREATE.
	Guilds []string
	// HeartbeatInterval is the interval in milliseconds sent in HELLO; it
	// defaults to 45000. Tests may lower it.
	HeartbeatInterval int
	// RateLimit is the number of requests allowed per bucket and major
	// parameter (channel, guild, webhook) in each RateLimitWindow. It is
	// advertised in the X-RateLimit-* headers and enforced with a 429. It
	// defaults to 50 so that tests are not slowed down; Discord's own
	// message limit is 5 per 5 s.
	RateLimit int
	// RateLimitWindow defaults to one second.
	RateLimitWindow time.Duration
	// Latency holds every REST request this long before it is handled,
	// as the round trip to Discord does (tens of milliseconds from most
	// hosts); zero, the default, answers at once. A client that sends
	// requests one after another, such as discordgo within one rate
	// limit bucket, pays it for each.
	Latency time.Duration
	// CallbackDeadline is how long after an interaction is sent its
	// callback is accepted; later callbacks get 404 Unknown interaction
	// (10062), as on Discord, where it is 3 s. Zero means 3 s; a negative
	// value disables the deadline.
	CallbackDeadline time.Duration
	// PrivilegedIntents are the privileged gateway intents enabled for the
	// application (GUILD_MEMBERS 1<<1, GUILD_PRESENCES 1<<8,
	// MESSAGE_CONTENT 1<<15). An IDENTIFY asking for others is closed with
	// 4014 "Disallowed intent(s)".
	PrivilegedIntents int64
	// SigningKey is the key the fake signs the interactions it POSTs to
	// an Interactions Endpoint URL with (see PostInteraction); its public
	// half is the application's public key (PublicKey). It defaults to a
	// key derived from AppID.
	SigningKey ed25519.PrivateKey
}

// Server is a fake Discord. Create it with New.
type Server struct {
	opts    Options
	http    *httptest.Server
	host    string // 127.0.0.1:PORT
	wsURL   string // ws://127.0.0.1:PORT/gateway
	routes  []route
	upgrade websocket.Upgrader
	wg      sync.WaitGroup // gateway connections
	done    chan struct{}  // closed by Close
	// endpoint POSTs interactions to Interactions Endpoint URLs.
	endpoint *http.Client

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change
	closed   bool
	token    string
	idSeq    int64
	requests []Request
	faults   []*faultQueue
	buckets  map[string]*bucketState

	channels     map[string]*channelState
	channelMsgs  map[string][]*message // by channel ID, in creation order
	messages     map[string]*message   // by message ID
	interactions map[string]*interactionState
	byToken      map[string]*interactionState
	commands     map[string][]*command // by guild ID; "" holds global commands

	sessions   map[string]*gwSession
	sessionSeq []*gwSession // in creation order
	conns      map[*gwConn]struct{}
	identifies []Identify
	resumes    []Resume
	heartbeats int
}

// New starts a fake Discord and closes it, websockets included, when the
// test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{
		done:         make(chan struct{}),
		changed:      make(chan struct{}),
		buckets:      map[string]*bucketState{},
		channels:     map[string]*channelState{},
		channelMsgs:  map[string][]*message{},
		messages:     map[string]*message{},
		interactions: map[string]*interactionState{},
		byToken:      map[string]*interactionState{},
		commands:     map[string][]*command{},
		sessions:     map[string]*gwSession{},
		conns:        map[*gwConn]struct{}{},
		upgrade: websocket.Upgrader{
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
	if opts.AppID == "" {
		opts.AppID, _ = s.newID()
	}
	if opts.BotUserID == "" {
		opts.BotUserID = opts.AppID
	}
	if opts.Token == "" {
		opts.Token = "fake-bot-token"
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 45000
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = 50
	}
	if opts.RateLimitWindow <= 0 {
		opts.RateLimitWindow = time.Second
	}
	if opts.CallbackDeadline == 0 {
		opts.CallbackDeadline = 3 * time.Second
	}
	if len(opts.SigningKey) != ed25519.PrivateKeySize {
		seed := sha256.Sum256([]byte("fakediscord signing key " + opts.AppID))
		opts.SigningKey = ed25519.NewKeyFromSeed(seed[:])
	}
	timeout := opts.CallbackDeadline
	if timeout < 0 {
		timeout = 30 * time.Second
	}
	s.endpoint = &http.Client{Transport: &http.Transport{}, Timeout: timeout}
	opts.Guilds = append([]string(nil), opts.Guilds...)
	s.opts = opts
	s.token = opts.Token
	s.routes = routeTable()
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	u, err := url.Parse(s.http.URL)
	if err != nil {
		s.http.Close()
		t.Fatalf("fakediscord: %v", err)
	}
	s.host = u.Host
	s.wsURL = "ws://" + u.Host + "/gateway"
	t.Cleanup(s.Close)
	return s
}

// URL returns the base URL of the server, such as http://127.0.0.1:PORT.
// The REST API is under URL()+"/api/v10/" (and /api/v9/), the gateway at
// ws://127.0.0.1:PORT/gateway.
func (s *Server) URL() string { return s.http.URL }

// GatewayURL returns the websocket URL that GET /gateway returns.
func (s *Server) GatewayURL() string { return s.wsURL }

// AppID returns the application ID.
func (s *Server) AppID() string { return s.opts.AppID }

// BotUserID returns the bot user's ID.
func (s *Server) BotUserID() string { return s.opts.BotUserID }

// PublicKey returns the application's public key, hex-encoded, as the
// developer portal shows it and GET /oauth2/applications/@me returns it
// (verify_key): the public half of Options.SigningKey.
func (s *Server) PublicKey() string {
	return hex.EncodeToString(s.opts.SigningKey.Public().(ed25519.PublicKey))
}

// Token returns the currently valid bot token (without "Bot ").
func (s *Server) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// SetToken makes token the only valid bot token, as resetting it in the
// developer portal does: REST requests with the old one get 401 and
// IDENTIFY or RESUME with it is closed with 4004. Connections already open
// stay open.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
	s.notify()
}

// Client returns an HTTP client for tests whose transport sends requests
// for https://discord.com/ to the fake (keeping the path) and refuses
// every other host except the fake itself, so a test never reaches the
// network. Set it as discordgo's Session.Client.
func (s *Server) Client() *http.Client {
	return &http.Client{
		Transport: &rewriteTransport{host: s.host, next: s.http.Client().Transport},
		Timeout:   20 * time.Second,
	}
}

type rewriteTransport struct {
	host string
	next http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.URL.Host {
	case t.host:
		return t.next.RoundTrip(req)
	case "discord.com":
		r := req.Clone(req.Context())
		r.URL.Scheme = "http"
		r.URL.Host = t.host
		r.Host = ""
		return t.next.RoundTrip(r)
	}
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, fmt.Errorf("fakediscord: refusing request to %s outside the fake", req.URL.Redacted())
}

// Close shuts the server down: it closes every gateway websocket, wakes
// delayed responses, and waits for the goroutines it started. New
// registers Close with t.Cleanup; calling it again is harmless.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	for c := range s.conns {
		c.dead = true
		c.ws.UnderlyingConn().Close()
	}
	s.notify()
	s.mu.Unlock()
	s.http.Close()
	s.wg.Wait()
	s.endpoint.CloseIdleConnections()
}

// errClosed is returned by waits when the server closes first.
var errClosed = errors.New("fakediscord: server closed")

// notify wakes every waiter; s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor blocks until cond, called with s.mu held, reports true.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		if s.closed {
			s.mu.Unlock()
			return errClosed
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Snowflakes are deterministic: the Nth ID generated by a Server has the
// timestamp 2025-01-01T00:00:00Z plus N milliseconds, worker 1, process 0
// and increment N mod 4096.
const (
	discordEpochMs = 1420070400000
	idBaseMs       = 1735689600000 // 2025-01-01T00:00:00Z
)

// newID returns a fresh snowflake and its timestamp; s.mu must be held
// (or the server not yet shared).
func (s *Server) newID() (string, time.Time) {
	s.idSeq++
	ms := idBaseMs + s.idSeq
	id := (ms-discordEpochMs)<<22 | 1<<17 | s.idSeq&0xfff
	return strconv.FormatInt(id, 10), time.UnixMilli(ms).UTC()
}

// SnowflakeTime returns the creation time encoded in a Discord snowflake.
func SnowflakeTime(id string) (time.Time, error) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("fakediscord: snowflake %q: %w", id, err)
	}
	return time.UnixMilli(int64(n>>22) + discordEpochMs).UTC(), nil
}

// isSnowflake reports whether id is a decimal uint64, as Discord requires
// of IDs in paths.
func isSnowflake(id string) bool {
	_, err := strconv.ParseUint(id, 10, 64)
	return err == nil
}

// opaque returns a deterministic token: prefix and 2n hex digits derived
// from a fresh ID (session IDs, interaction tokens); s.mu must be held.
func (s *Server) opaque(prefix string, n int) string {
	id, _ := s.newID()
	sum := sha256.Sum256([]byte(prefix + id))
	return prefix + hex.EncodeToString(sum[:])[:2*n]
}

// timestamp formats t the way Discord does (ISO 8601 with microseconds
// and an explicit +00:00 offset).
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000-07:00")
}

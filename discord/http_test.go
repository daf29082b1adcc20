package discord

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/bwmarrin/discordgo"
)

// shardOneGuild is on shard 1 of 2: (id >> 22) % 2 == 1.
const shardOneGuild = "100000000004194305"

// httpEnv is an env whose fake Discord signs interactions with key,
// made in the test, and whose bot knows its public half.
type httpEnv struct {
	*env
	key ed25519.PrivateKey
}

func newHTTPEnv(t *testing.T, svc *fakeService) httpEnv {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, svc, func(o *fakediscord.Options) { o.SigningKey = priv })
	e.configure = func(c *Config) { c.PublicKey = hex.EncodeToString(pub) }
	e.bot = e.newBot()
	return httpEnv{e, priv}
}

// serve runs the bot in HTTP interactions mode until the test ends and
// returns its Interactions Endpoint URL.
func (e *env) serve() string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.bot.Serve(ctx, ln) }()
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("Serve: %v", err)
			}
		})
	}
	e.t.Cleanup(e.stop)
	// Serve registers the commands before it takes requests.
	url := "http://" + ln.Addr().String() + "/interactions"
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Post(url, "application/json", strings.NewReader("{}")); err == nil {
			resp.Body.Close()
			return url
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatal("Serve never took requests")
	return ""
}

// post delivers an interaction over HTTP, as Discord does.
func (e *env) post(url string, i fakediscord.Interaction) (fakediscord.SentInteraction, fakediscord.EndpointResponse) {
	e.t.Helper()
	if i.GuildID == "" {
		i.GuildID = testGuild
	}
	if i.ChannelID == "" {
		i.ChannelID = testChannel
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sent, resp, err := e.srv.PostInteraction(ctx, url, i)
	if err != nil {
		e.t.Fatal(err)
	}
	return sent, resp
}

func TestHTTPInteractionsVerifyEndpointAndPing(t *testing.T) {
	t.Parallel()
	e := newHTTPEnv(t, &fakeService{})
	ts := httptest.NewServer(e.bot.InteractionsHandler(t.Context()))
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.VerifyEndpoint(ctx, ts.URL); err != nil {
		t.Fatal(err)
	}
	resp, err := e.srv.PingEndpoint(ctx, ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK || strings.TrimSpace(string(resp.Body)) != `{"type":1}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("PING answered %d %s %q, want 200 application/json {\"type\":1}", resp.Status, resp.Header.Get("Content-Type"), resp.Body)
	}
	if n := len(e.srv.Identifies()); n != 0 {
		t.Errorf("%d gateway IDENTIFYs, want none in HTTP mode", n)
	}
}

func TestHTTPInteractionsRefuseBadRequests(t *testing.T) {
	t.Parallel()
	e := newHTTPEnv(t, &fakeService{})
	noKey := newEnv(t, &fakeService{}).bot // no PublicKey configured
	_, otherKey, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := e.srv.CreateInteraction(fakediscord.Interaction{Name: "subscriptions", GuildID: testGuild, ChannelID: testChannel})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(sent.Payload)
	key := e.key
	now := time.Now()
	tampered := bytes.Replace(body, []byte(`"subscriptions"`), []byte(`"unsubscribe"`), 1)
	if bytes.Equal(tampered, body) {
		t.Fatal("tampering changed nothing")
	}
	big := append(bytes.Clone(body[:len(body)-1]), []byte(`,"pad":"`+strings.Repeat("x", 1<<20)+`"}`)...)
	tests := []struct {
		name   string
		bot    *Bot
		method string
		header http.Header
		body   []byte
	}{
		{"tampered body", e.bot, "POST", fakediscord.SignatureHeaders(key, now, body), tampered},
		{"wrong key", e.bot, "POST", fakediscord.SignatureHeaders(otherKey, now, body), body},
		{"stale timestamp", e.bot, "POST", fakediscord.SignatureHeaders(key, now.Add(-6*time.Minute), body), body},
		{"future timestamp", e.bot, "POST", fakediscord.SignatureHeaders(key, now.Add(6*time.Minute), body), body},
		{"no headers", e.bot, "POST", http.Header{}, body},
		{"no signature", e.bot, "POST", without(fakediscord.SignatureHeaders(key, now, body), "X-Signature-Ed25519"), body},
		{"no timestamp", e.bot, "POST", without(fakediscord.SignatureHeaders(key, now, body), "X-Signature-Timestamp"), body},
		{"signature not hex", e.bot, "POST", with(fakediscord.SignatureHeaders(key, now, body), "X-Signature-Ed25519", strings.Repeat("zz", 64)), body},
		{"signature too short", e.bot, "POST", with(fakediscord.SignatureHeaders(key, now, body), "X-Signature-Ed25519", "abcd"), body},
		{"timestamp not a number", e.bot, "POST", with(fakediscord.SignatureHeaders(key, now, body), "X-Signature-Timestamp", now.Format(time.RFC3339)), body},
		{"body too large", e.bot, "POST", fakediscord.SignatureHeaders(key, now, big), big},
		{"GET", e.bot, "GET", fakediscord.SignatureHeaders(key, now, nil), nil},
		{"no public key configured", noKey, "POST", fakediscord.SignatureHeaders(key, now, body), body},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(tt.bot.InteractionsHandler(t.Context()))
			defer ts.Close()
			req, err := http.NewRequest(tt.method, ts.URL, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tt.header.Clone()
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || strings.TrimSpace(string(got)) != "invalid request signature" {
				t.Errorf("answered %d %q, want 401 \"invalid request signature\"", resp.StatusCode, got)
			}
		})
	}
	// The same harness with a good signature is answered, and not as a
	// duplicate: no refused request reached a handler.
	ts := httptest.NewServer(e.bot.InteractionsHandler(t.Context()))
	defer ts.Close()
	req, _ := http.NewRequest("POST", ts.URL, bytes.NewReader(body))
	req.Header = fakediscord.SignatureHeaders(key, now, body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a good request answered %d, want 200", resp.StatusCode)
	}
	if rs := e.srv.InteractionResponses(sent.ID); len(rs) != 0 {
		t.Errorf("%d responses through the fake, want none", len(rs))
	}
}

// slowStore answers Subscriptions late.
type slowStore struct {
	Store
	delay time.Duration
}

func (s slowStore) Subscriptions(ctx context.Context, guildID string) ([]digest.Subscription, error) {
	time.Sleep(s.delay)
	return s.Store.Subscriptions(ctx, guildID)
}

func TestHTTPInteractionsSlowHandlerUsesCallback(t *testing.T) {
	t.Parallel()
	e := newHTTPEnv(t, &fakeService{})
	e.bot.store = slowStore{Store: e.store, delay: initialWait + 500*time.Millisecond}
	ts := httptest.NewServer(e.bot.InteractionsHandler(t.Context()))
	defer ts.Close()
	defer e.bot.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Like Discord, the fake gives up after 3s.
	sent, resp, err := e.srv.PostInteraction(ctx, ts.URL, fakediscord.Interaction{Name: "subscriptions", GuildID: testGuild, ChannelID: testChannel})
	if err == nil {
		t.Fatalf("answered %d %s before the handler was ready", resp.Status, resp.Body)
	}
	// The answer came too late for the HTTP request; it goes to the
	// callback endpoint instead (which refuses it after its deadline,
	// as Discord does).
	r, err := e.srv.WaitRequest(ctx, "POST /interactions/"+sent.ID+"/*/callback")
	if err != nil || r.Endpoint {
		t.Fatalf("callback %+v, %v; want a request to the callback endpoint", r, err)
	}
}

func without(h http.Header, key string) http.Header {
	h.Del(key)
	return h
}

func with(h http.Header, key, value string) http.Header {
	h.Set(key, value)
	return h
}

func TestHTTPInteractionsCommands(t *testing.T) {
	t.Parallel()
	e := newHTTPEnv(t, &fakeService{delay: 500 * time.Millisecond, stories: 2})
	url := e.serve()
	if n := len(e.srv.Identifies()); n != 0 {
		t.Errorf("%d gateway IDENTIFYs, want none in HTTP mode", n)
	}
	if n := len(e.srv.RequestsTo("PUT /applications/300000000000000001/commands")); n != 1 {
		t.Errorf("commands registered %d times, want once", n)
	}
	if appID, userID := e.bot.ids(); appID != e.srv.AppID() || userID != e.srv.BotUserID() {
		t.Errorf("ids = %q, %q; want them from REST", appID, userID)
	}

	// An immediate answer is the body of the HTTP answer.
	sent, resp := e.post(url, fakediscord.Interaction{Name: "subscriptions"})
	var body struct {
		Type int `json:"type"`
		Data struct {
			Content string `json:"content"`
			Flags   int64  `json:"flags"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil || resp.Status != http.StatusOK ||
		body.Type != int(discordgo.InteractionResponseChannelMessageWithSource) || !strings.Contains(body.Data.Content, "No subscriptions yet") ||
		body.Data.Flags&int64(discordgo.MessageFlagsEphemeral) == 0 {
		t.Fatalf("/subscriptions answered %d %s (%v)", resp.Status, resp.Body, err)
	}
	content, ephemeral := e.answer(sent)
	if !ephemeral || !strings.Contains(content, "No subscriptions yet") {
		t.Errorf("/subscriptions callback on the fake: %q (ephemeral %v)", content, ephemeral)
	}
	rs := e.srv.InteractionResponses(sent.ID)
	if len(rs) != 1 || !rs[0].Endpoint || rs[0].Status != http.StatusNoContent {
		t.Errorf("responses to /subscriptions = %+v, want the endpoint's answer only", rs)
	}
	// The same interaction again: answered once.
	h := fakediscord.SignatureHeaders(e.key, time.Now(), sent.Payload)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(sent.Payload))
	req.Header = h
	if again, err := http.DefaultClient.Do(req); err != nil || again.StatusCode != http.StatusNoContent {
		t.Errorf("duplicate interaction answered %v, %v; want 204", again, err)
	} else {
		again.Body.Close()
	}
	if n := len(e.srv.InteractionResponses(sent.ID)); n != 1 {
		t.Errorf("%d responses after a duplicate, want 1", n)
	}

	// /brief defers in the HTTP answer and edits in the briefing through
	// the webhook.
	start := time.Now()
	sent, resp = e.post(url, fakediscord.Interaction{Name: "brief", Options: []fakediscord.Option{fakediscord.StringOption("topic", "korea-talks")}})
	if took := time.Since(start); resp.Status != http.StatusOK || strings.TrimSpace(string(resp.Body)) != `{"type":5}` || took > 3*time.Second {
		t.Fatalf("/brief answered %d %s after %s, want a deferral", resp.Status, resp.Body, took)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var final fakediscord.Message
	for ctx.Err() == nil {
		m, err := e.srv.WaitResponseMessage(ctx, sent.ID)
		if err == nil && len(m.Embeds) > 0 {
			final = m
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(final.Embeds) == 0 || string(final.AllowedMentions) != `{"parse":[],"replied_user":false}` {
		t.Fatalf("the briefing never replaced the deferred message: %+v", final)
	}

	// Autocomplete choices are the body of the answer too.
	_, resp = e.post(url, fakediscord.Interaction{Type: fakediscord.InteractionAutocomplete, Name: "brief",
		Options: []fakediscord.Option{fakediscord.Focused(fakediscord.StringOption("topic", "kor"))}})
	var choices struct {
		Type int `json:"type"`
		Data struct {
			Choices []struct{ Value string } `json:"choices"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp.Body, &choices); err != nil || choices.Type != int(discordgo.InteractionApplicationCommandAutocompleteResult) ||
		len(choices.Data.Choices) != 1 || choices.Data.Choices[0].Value != "korea-talks" {
		t.Errorf("autocomplete answered %d %s", resp.Status, resp.Body)
	}

	// A user error before any deferral: ephemeral, in the answer.
	_, resp = e.post(url, fakediscord.Interaction{Name: "brief", Options: []fakediscord.Option{fakediscord.StringOption("topic", "nope")}})
	if !strings.Contains(string(resp.Body), `no topic \"nope\"`) || !strings.Contains(string(resp.Body), `"flags":64`) {
		t.Errorf("/brief with an unknown topic answered %s", resp.Body)
	}

	// Shutdown waits for the handlers and returns.
	stopped := make(chan struct{})
	go func() { e.stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after its context was cancelled")
	}
}

func TestServeRefusesBadSetup(t *testing.T) {
	t.Parallel()
	e := newHTTPEnv(t, &fakeService{})
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := Config{Token: "wrong", APIURL: e.srv.URL(), Transport: e.srv.Client().Transport}
	e.configure(&cfg)
	bad, err := New(cfg, e.store, e.svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Serve(ctx, listen()); !errors.Is(err, ErrBadToken) {
		t.Errorf("Serve with a bad token: %v, want ErrBadToken", err)
	}
	noKey := newEnv(t, &fakeService{}).bot
	if err := noKey.Serve(ctx, listen()); err == nil || !strings.Contains(err.Error(), "DISCORD_PUBLIC_KEY") {
		t.Errorf("Serve without a public key: %v", err)
	}
}

func TestNewValidatesShardsAndPublicKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string // "" means valid
	}{
		{"unsharded", Config{}, ""},
		{"one shard", Config{ShardCount: 1}, ""},
		{"last shard", Config{ShardID: 3, ShardCount: 4}, ""},
		{"shard ID too large", Config{ShardID: 2, ShardCount: 2}, "shard ID 2"},
		{"shard ID without count", Config{ShardID: 1}, "shard ID 1"},
		{"negative shard ID", Config{ShardID: -1, ShardCount: 2}, "shard ID -1"},
		{"negative count", Config{ShardCount: -2}, "shard count -2"},
		{"too many shards", Config{ShardCount: maxShards + 1}, "shard count"},
		{"public key", Config{PublicKey: strings.Repeat("ab", 32)}, ""},
		{"public key not hex", Config{PublicKey: strings.Repeat("zz", 32)}, "DISCORD_PUBLIC_KEY"},
		{"public key too short", Config{PublicKey: "abcd"}, "DISCORD_PUBLIC_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Token = token
			b, err := New(cfg, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("New: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("New: %v, want an error about %q", err, tt.want)
			case err == nil && b.session.ShardCount != max(tt.cfg.ShardCount, 1):
				t.Errorf("session shard count %d", b.session.ShardCount)
			}
		})
	}
}

func TestShardsAnswerTheirGuildsAndOneRegisters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, &fakeService{stories: 1}, func(o *fakediscord.Options) { o.Guilds = []string{testGuild, shardOneGuild} })
	const shardOneChannel = "200000000000000002"
	e.srv.AddChannel(fakediscord.Channel{ID: shardOneChannel, GuildID: shardOneGuild, Name: "news"})
	svcs := []*fakeService{{stories: 1}, {stories: 1}}
	var stops []func()
	for id, svc := range svcs {
		e.svc = svc
		e.configure = func(c *Config) { c.ShardID, c.ShardCount = id, 2 }
		b := e.newBot()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		var once sync.Once
		stop := func() {
			once.Do(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("shard %d: Run: %v", id, err)
				}
			})
		}
		t.Cleanup(stop)
		stops = append(stops, stop)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && (len(readyShards(e.srv)) < 2 || len(e.srv.Commands("")) == 0) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := readyShards(e.srv); len(got) != 2 || !got[[2]int{0, 2}] || !got[[2]int{1, 2}] {
		t.Fatalf("identified shards %v, want [0 2] and [1 2]", got)
	}

	for _, tt := range []struct {
		guild, channel string
		shard          int
	}{{testGuild, testChannel, 0}, {shardOneGuild, shardOneChannel, 1}} {
		before := []int32{svcs[0].calls.Load(), svcs[1].calls.Load()}
		sent, err := e.srv.SendInteraction(fakediscord.Interaction{Name: "brief", GuildID: tt.guild, ChannelID: tt.channel,
			Options: []fakediscord.Option{fakediscord.StringOption("query", "north korea")}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for ctx.Err() == nil {
			if m, err := e.srv.WaitResponseMessage(ctx, sent.ID); err == nil && len(m.Embeds) > 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		if n := len(e.srv.RequestsTo("POST /interactions/" + sent.ID + "/*/callback")); n != 1 {
			t.Errorf("guild %s: %d callbacks, want 1", tt.guild, n)
		}
		for shard, svc := range svcs {
			want := before[shard]
			if shard == tt.shard {
				want++
			}
			if got := svc.calls.Load(); got != want {
				t.Errorf("guild %s (shard %d): shard %d built %d briefings, want %d", tt.guild, tt.shard, shard, got-before[shard], want-before[shard])
			}
		}
	}
	for _, stop := range stops {
		stop()
	}
	if n := len(e.srv.RequestsTo("PUT /applications/*/commands")); n != 1 {
		t.Errorf("commands overwritten %d times by two shards, want once", n)
	}
	if n := len(e.srv.RequestsTo("GET /applications/*/commands")); n != 1 {
		t.Errorf("commands listed %d times by two shards, want once (shard 0)", n)
	}
}

// readyShards returns the shards identified successfully.
func readyShards(srv *fakediscord.Server) map[[2]int]bool {
	out := map[[2]int]bool{}
	for _, id := range srv.Identifies() {
		if id.CloseCode == 0 {
			out[id.Shard] = true
		}
	}
	return out
}

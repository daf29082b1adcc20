package fakediscord_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/briefbot/briefbot/internal/fakediscord"
)

const (
	appID   = "1100000000000000001"
	guildID = "1200000000000000001"
	chanID  = "1300000000000000001"
	token   = "test-bot-token"
)

func newServer(t *testing.T, opts fakediscord.Options) *fakediscord.Server {
	t.Helper()
	if opts.AppID == "" {
		opts.AppID = appID
	}
	if opts.Token == "" {
		opts.Token = token
	}
	if opts.Guilds == nil {
		opts.Guilds = []string{guildID}
	}
	// The heartbeat interval stays at 45 s except where a test says
	// otherwise: discordgo's heartbeat goroutine, when its ticker fires
	// while the listen goroutine handles a failure, starts a second
	// reconnect loop (wsapi.go:307) that closes the fresh connection
	// with 1000, which makes reconnect tests nondeterministic.
	return fakediscord.New(t, opts)
}

// newSession returns a discordgo session talking to srv, not yet open.
func newSession(t *testing.T, srv *fakediscord.Server, tok string) *discordgo.Session {
	t.Helper()
	dg, err := discordgo.New("Bot " + tok)
	if err != nil {
		t.Fatal(err)
	}
	dg.Client = srv.Client()
	dg.LogLevel = -1 // discordgo logs with the standard logger; keep test output clean
	return dg
}

// openSession opens a session and closes it when the test ends (before
// the server closes: cleanups run last-in first-out).
func openSession(t *testing.T, srv *fakediscord.Server) *discordgo.Session {
	t.Helper()
	dg := newSession(t, srv, srv.Token())
	if err := dg.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { dg.Close() })
	// Wait for the first heartbeat: see Server.Heartbeats.
	if err := waitFor(testContext(t), func() bool { return srv.Heartbeats() > 0 }); err != nil {
		t.Fatalf("no heartbeat after Open: %v", err)
	}
	return dg
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// interactions forwards the session's INTERACTION_CREATE events.
func interactions(dg *discordgo.Session) <-chan *discordgo.Interaction {
	ch := make(chan *discordgo.Interaction, 16)
	dg.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) { ch <- i.Interaction })
	return ch
}

func receive(t *testing.T, ch <-chan *discordgo.Interaction) *discordgo.Interaction {
	t.Helper()
	select {
	case i := <-ch:
		return i
	case <-time.After(5 * time.Second):
		t.Fatal("no INTERACTION_CREATE received")
		return nil
	}
}

func restError(t *testing.T, err error) *discordgo.RESTError {
	t.Helper()
	var re *discordgo.RESTError
	if !errors.As(err, &re) {
		t.Fatalf("got error %v (%T), want a *discordgo.RESTError", err, err)
	}
	return re
}

func statuses(rs []fakediscord.Request) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.Status)
	}
	return out
}

func TestOpenReceivesReadyAndGuilds(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{BotUserID: "1400000000000000001", HeartbeatInterval: 100})
	srv.AddChannel(fakediscord.Channel{ID: chanID, GuildID: guildID, Name: "news"})
	created := make(chan *discordgo.GuildCreate, 1)
	dg := newSession(t, srv, token)
	dg.AddHandler(func(_ *discordgo.Session, g *discordgo.GuildCreate) { created <- g })
	if err := dg.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { dg.Close() })

	if got, want := dg.State.User.ID, "1400000000000000001"; got != want {
		t.Errorf("State.User.ID = %q, want %q", got, want)
	}
	if !dg.State.User.Bot {
		t.Error("State.User.Bot = false")
	}
	if got := dg.State.Application.ID; got != appID {
		t.Errorf("State.Application.ID = %q, want %q", got, appID)
	}
	select {
	case g := <-created:
		if g.ID != guildID || len(g.Channels) != 1 || g.Channels[0].Name != "news" {
			t.Errorf("GUILD_CREATE = %s with channels %v, want %s with #news", g.ID, g.Channels, guildID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no GUILD_CREATE")
	}
	if !srv.Connected() {
		t.Error("Connected() = false after Open")
	}
	ids := srv.Identifies()
	if len(ids) != 1 {
		t.Fatalf("Identifies() = %d, want 1", len(ids))
	}
	if ids[0].Token != "Bot "+token || ids[0].Intents != int64(discordgo.IntentsAllWithoutPrivileged) || !ids[0].Compress {
		t.Errorf("IDENTIFY = %+v, want discordgo's defaults", ids[0])
	}
	// Heartbeats are acknowledged: the ACK time moves past Open's.
	dg.RLock()
	opened := dg.LastHeartbeatAck
	dg.RUnlock()
	deadline := time.Now().Add(3 * time.Second)
	for {
		dg.RLock()
		ack := dg.LastHeartbeatAck
		dg.RUnlock()
		if ack.After(opened) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no heartbeat ACK received")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPrivilegedIntentsAreRefused(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := newSession(t, srv, token)
	dg.Identify.Intents = discordgo.IntentsAll
	err := dg.Open()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4014 {
		t.Fatalf("Open with privileged intents: %v, want close 4014", err)
	}
}

func TestMessagesRecordAllowedMentions(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := newSession(t, srv, token)

	safe, err := dg.ChannelMessageSendComplex(chanID, &discordgo.MessageSend{
		Content:         "@everyone see <@1500000000000000001>",
		Embeds:          []*discordgo.MessageEmbed{{Title: "Korea talks", URL: "https://example.com/a", Color: 0x3366ff}},
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if safe.ID == "" || safe.ChannelID != chanID || safe.Author == nil || !safe.Author.Bot {
		t.Errorf("returned message = %+v, want an ID, the channel and the bot as author", safe)
	}
	if _, err := fakediscord.SnowflakeTime(safe.ID); err != nil || safe.Timestamp.IsZero() {
		t.Errorf("message ID %q / timestamp %v: %v", safe.ID, safe.Timestamp, err)
	}
	unsafe, err := dg.ChannelMessageSend(chanID, "@everyone see <@1500000000000000001>")
	if err != nil {
		t.Fatal(err)
	}

	msgs := srv.Messages(chanID)
	if len(msgs) != 2 {
		t.Fatalf("Messages() = %d messages, want 2", len(msgs))
	}
	if got, want := string(msgs[0].AllowedMentions), `{"parse":[],"replied_user":false}`; got != want {
		t.Errorf("allowed_mentions sent = %s, want %s", got, want)
	}
	if m := msgs[0].Mentions; m.Everyone || len(m.Users) > 0 {
		t.Errorf("mentions with parse [] = %+v, want none", m)
	}
	if m := msgs[1].Mentions; !m.Everyone || !slices.Equal(m.Users, []string{"1500000000000000001"}) {
		t.Errorf("mentions without allowed_mentions = %+v, want everyone and the user", m)
	}
	if msgs[1].ID != unsafe.ID || unsafe.MentionEveryone != true {
		t.Errorf("second message = %+v", unsafe)
	}
	var embed struct {
		Embeds []map[string]any `json:"embeds"`
	}
	if err := json.Unmarshal(msgs[0].Raw, &embed); err != nil || embed.Embeds[0]["title"] != "Korea talks" {
		t.Errorf("raw JSON %s: %v", msgs[0].Raw, err)
	}
	reqs := srv.RequestsTo("POST /channels/*/messages")
	if len(reqs) != 2 || reqs[0].Version != "9" || reqs[0].Header.Get("Authorization") != "Bot "+token {
		t.Fatalf("requests = %+v", reqs)
	}
	am := reqs[0].JSON.(map[string]any)["allowed_mentions"].(map[string]any)
	if parse, ok := am["parse"].([]any); !ok || len(parse) != 0 {
		t.Errorf("recorded allowed_mentions = %v, want parse []", am)
	}

	edited, err := dg.ChannelMessageEdit(chanID, safe.ID, "updated")
	if err != nil {
		t.Fatal(err)
	}
	if edited.Content != "updated" || edited.EditedTimestamp == nil {
		t.Errorf("edited message = %+v", edited)
	}
	if m, _ := srv.Message(safe.ID); !m.Edited || len(m.Sent) != 2 || m.Content != "updated" || len(m.Embeds) != 1 {
		t.Errorf("stored edit = %+v", m)
	}
	if err := dg.ChannelMessageDelete(chanID, unsafe.ID); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(chanID); len(got) != 1 || got[0].ID != safe.ID {
		t.Errorf("after delete: %v", got)
	}
	if err := dg.ChannelMessageDelete(chanID, unsafe.ID); restError(t, err).Message.Code != 10008 {
		t.Errorf("deleting twice: %v, want Unknown Message", err)
	}
}

func TestMessageValidationAndChannelErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := newSession(t, srv, token)

	tests := []struct {
		name    string
		channel string
		send    *discordgo.MessageSend
		status  int
		code    int
		body    string // a substring of the error body
	}{
		{"too long", chanID, &discordgo.MessageSend{Content: strings.Repeat("a", 2001)}, 400, 50035, `"content":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH"`},
		{"empty", chanID, &discordgo.MessageSend{}, 400, 50006, "Cannot send an empty message"},
		{"embed title", chanID, &discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Title: strings.Repeat("t", 257)}}}, 400, 50035, `"embeds":{"0":{"title"`},
		{"embed total", chanID, &discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Description: strings.Repeat("d", 4000)}, {Description: strings.Repeat("d", 4000)}}}, 400, 50035, "MAX_EMBED_SIZE_EXCEEDED"},
		{"field value", chanID, &discordgo.MessageSend{Embeds: []*discordgo.MessageEmbed{{Fields: []*discordgo.MessageEmbedField{{Name: "n"}}}}}, 400, 50035, `"fields":{"0":{"value"`},
		{"bad parse", chanID, &discordgo.MessageSend{Content: "x", AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{"nobody"}}}, 400, 50035, "ENUM_TYPE_COERCE"},
		{"not a snowflake", "news", &discordgo.MessageSend{Content: "x"}, 400, 50035, `Value \"news\" is not snowflake.`},
		{"missing", "1300000000000000002", &discordgo.MessageSend{Content: "x"}, 404, 10003, "Unknown Channel"},
		{"forbidden", "1300000000000000003", &discordgo.MessageSend{Content: "x"}, 403, 50001, "Missing Access"},
	}
	srv.MarkChannelMissing("1300000000000000002")
	srv.MarkChannelForbidden("1300000000000000003")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dg.ChannelMessageSendComplex(tt.channel, tt.send)
			re := restError(t, err)
			if re.Response.StatusCode != tt.status || re.Message == nil || re.Message.Code != tt.code || !strings.Contains(string(re.ResponseBody), tt.body) {
				t.Errorf("got %d %s, want %d code %d containing %s", re.Response.StatusCode, re.ResponseBody, tt.status, tt.code, tt.body)
			}
		})
	}
	srv.RestoreChannel("1300000000000000002")
	if _, err := dg.ChannelMessageSend("1300000000000000002", "back"); err != nil {
		t.Errorf("after RestoreChannel: %v", err)
	}

	ch, err := dg.Channel(chanID)
	if err != nil || ch.ID != chanID || ch.GuildID != guildID || ch.Type != discordgo.ChannelTypeGuildText {
		t.Errorf("Channel() = %+v, %v", ch, err)
	}
	me, err := dg.User("@me")
	if err != nil || me.ID != appID || !me.Bot {
		t.Errorf("User(@me) = %+v, %v", me, err)
	}
	chans, err := dg.GuildChannels(guildID)
	if err != nil || len(chans) == 0 {
		t.Errorf("GuildChannels() = %v, %v", chans, err)
	}
	_, err = dg.Request("GET", discordgo.EndpointAPI+"no/such/route", nil)
	if re := restError(t, err); re.Response.StatusCode != 404 || string(re.ResponseBody) != `{"code":0,"message":"404: Not Found"}` {
		t.Errorf("unknown route: %d %s", re.Response.StatusCode, re.ResponseBody)
	}
}

func TestRateLimitFaultIsRetriedByDiscordgo(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := newSession(t, srv, token)
	limited := make(chan *discordgo.RateLimit, 2)
	dg.AddHandler(func(_ *discordgo.Session, r *discordgo.RateLimit) { limited <- r })

	srv.Inject("POST /channels/*/messages", fakediscord.Fault{Status: 429, RetryAfter: 0.2})
	start := time.Now()
	if _, err := dg.ChannelMessageSend(chanID, "hello"); err != nil {
		t.Fatalf("send after a 429: %v", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("discordgo retried after %v, want >= retry_after 0.2 s", d)
	}
	reqs := srv.RequestsTo("POST /channels/*/messages")
	if got := statuses(reqs); !slices.Equal(got, []int{429, 200}) {
		t.Fatalf("statuses = %v, want [429 200]", got)
	}
	select {
	case r := <-limited:
		if r.RetryAfter != 200*time.Millisecond {
			t.Errorf("RateLimit event RetryAfter = %v", r.RetryAfter)
		}
	case <-time.After(time.Second):
		t.Error("no RateLimit event")
	}

	// A global 429 is retried too.
	srv.Inject("*", fakediscord.Fault{Status: 429, RetryAfter: 0.05, Global: true})
	if _, err := dg.ChannelMessageSend(chanID, "again"); err != nil {
		t.Fatalf("send after a global 429: %v", err)
	}

	// Without retries discordgo returns a *RateLimitError.
	srv.Inject("POST /channels/*/messages", fakediscord.Fault{Status: 429, RetryAfter: 0.05})
	_, err := dg.ChannelMessageSend(chanID, "no retry", discordgo.WithRetryOnRatelimit(false))
	var rl *discordgo.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 50*time.Millisecond {
		t.Errorf("without retries: %v, want a RateLimitError of 50ms", err)
	}
	if n := srv.PendingFaults(); n != 0 {
		t.Errorf("PendingFaults() = %d", n)
	}
}

func TestRateLimitHeadersAndEnforcement(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{RateLimit: 2, RateLimitWindow: 300 * time.Millisecond})
	post := func() *http.Response {
		req, _ := http.NewRequest("POST", "https://discord.com/api/v10/channels/"+chanID+"/messages", strings.NewReader(`{"content":"x"}`))
		req.Header.Set("Authorization", "Bot "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	first := post()
	if first.StatusCode != 200 || first.Header.Get("X-RateLimit-Limit") != "2" || first.Header.Get("X-RateLimit-Remaining") != "1" ||
		first.Header.Get("X-RateLimit-Bucket") == "" || first.Header.Get("X-RateLimit-Reset") == "" || first.Header.Get("X-RateLimit-Reset-After") == "" {
		t.Errorf("first response: %d %v", first.StatusCode, first.Header)
	}
	post()
	third := post()
	if third.StatusCode != 429 || third.Header.Get("X-RateLimit-Scope") != "user" || third.Header.Get("Retry-After") != "1" || third.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("third response: %d %v", third.StatusCode, third.Header)
	}

	// discordgo reads the headers and waits instead of hitting the limit.
	dg := newSession(t, srv, token)
	other := "1300000000000000009"
	for i := range 3 {
		if _, err := dg.ChannelMessageSend(other, "x"); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if got := statuses(srv.RequestsTo("POST /channels/" + other + "/messages")); !slices.Equal(got, []int{200, 200, 200}) {
		t.Errorf("discordgo statuses = %v, want no 429", got)
	}
}

func TestServerErrorsAndDroppedConnections(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := newSession(t, srv, token)
	route := "POST /channels/" + chanID + "/messages"

	// 500 is returned at once, not retried.
	srv.Inject(route, fakediscord.Fault{Status: 500})
	_, err := dg.ChannelMessageSend(chanID, "x")
	if re := restError(t, err); re.Response.StatusCode != 500 || re.Message == nil || re.Message.Message != "500: Internal Server Error" {
		t.Errorf("500: %v", err)
	}
	if got := statuses(srv.RequestsTo(route)); !slices.Equal(got, []int{500}) {
		t.Errorf("after a 500: statuses %v, want one request", got)
	}

	// 502 is retried up to MaxRestRetries (3) times.
	srv.Inject(route, fakediscord.Fault{Status: 502}, fakediscord.Fault{Status: 502})
	if _, err := dg.ChannelMessageSend(chanID, "x"); err != nil {
		t.Errorf("two 502s then success: %v", err)
	}
	srv.Inject(route, fakediscord.Fault{Status: 502}, fakediscord.Fault{Status: 502}, fakediscord.Fault{Status: 502}, fakediscord.Fault{Status: 502})
	_, err = dg.ChannelMessageSend(chanID, "x")
	if err == nil || !strings.HasPrefix(err.Error(), "Exceeded Max retries HTTP 502 Bad Gateway") {
		t.Errorf("four 502s: %v, want discordgo's Exceeded Max retries error", err)
	}
	if got := statuses(srv.RequestsTo(route)); !slices.Equal(got, []int{500, 502, 502, 200, 502, 502, 502, 502}) {
		t.Errorf("statuses = %v", got)
	}

	// A dropped connection surfaces as the transport's error.
	srv.Inject(route, fakediscord.Fault{Drop: true})
	_, err = dg.ChannelMessageSend(chanID, "x")
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Errorf("dropped: %v (%T), want a *url.Error", err, err)
	}
	last := srv.RequestsTo(route)
	if r := last[len(last)-1]; !r.Dropped || r.Status != 0 {
		t.Errorf("dropped request recorded as %+v", r)
	}

	// ... but net/http itself retries a GET on a reused connection.
	if _, err := dg.User("@me"); err != nil {
		t.Fatal(err)
	}
	srv.Inject("GET /users/@me", fakediscord.Fault{Drop: true})
	if _, err := dg.User("@me"); err != nil {
		t.Errorf("dropped GET: %v, want net/http's retry to succeed", err)
	}
	if got := statuses(srv.RequestsTo("GET /users/@me")); !slices.Equal(got, []int{200, 0, 200}) {
		t.Errorf("dropped GET: statuses %v, want [200 0 200]", got)
	}

	// A slow response runs into the caller's context deadline.
	srv.Inject(route, fakediscord.Fault{Delay: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = dg.ChannelMessageSend(chanID, "x", discordgo.WithContext(ctx))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow: %v, want context.DeadlineExceeded", err)
	}

	// Code and Message override the body.
	srv.Inject(route, fakediscord.Fault{Status: 403, Code: 50013, Message: "Missing Permissions"})
	_, err = dg.ChannelMessageSend(chanID, "x")
	if re := restError(t, err); re.Message.Code != 50013 {
		t.Errorf("403: %v", err)
	}
}

func TestWrongToken(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := newSession(t, srv, "not-the-token")

	_, err := dg.ChannelMessageSend(chanID, "x")
	re := restError(t, err)
	if re.Response.StatusCode != 401 || re.Message == nil || re.Message.Message != "401: Unauthorized" || re.Message.Code != 0 {
		t.Errorf("REST with a wrong token: %v", err)
	}

	// GET /gateway needs no token, so Open gets as far as IDENTIFY, which
	// is closed with 4004; Open returns the close error and does not
	// reconnect.
	err = dg.Open()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4004 || ce.Text != "Authentication failed" {
		t.Fatalf("Open with a wrong token: %v, want close 4004 Authentication failed", err)
	}
	if ids := srv.Identifies(); len(ids) != 1 || ids[0].CloseCode != 4004 {
		t.Errorf("Identifies() = %+v", ids)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(srv.Identifies()); n != 1 || srv.Connected() {
		t.Errorf("after a failed Open: %d identifies, connected %v; want no retry", n, srv.Connected())
	}
}

func TestTokenResetMidSessionReconnectsUntilValid(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	openSession(t, srv)
	ctx := testContext(t)

	srv.SetToken("rotated")
	srv.CloseGateway(4004)
	// discordgo does not treat 4004 as fatal: it closes (1 s), then
	// reconnect() calls Open in a loop with backoff 1, 2, 4 … 600 s.
	err := waitFor(ctx, func() bool {
		rs := srv.Resumes()
		return len(rs) > 0 && rs[0].CloseCode == 4004
	})
	if err != nil {
		t.Fatalf("no RESUME rejected with 4004: %v", err)
	}
	srv.SetToken(token)
	// 4004 invalidated the session, so the RESUME after the token came
	// back gets an Invalid Session and discordgo identifies again.
	err = waitFor(ctx, func() bool {
		ids := srv.Identifies()
		return srv.Connected() && len(ids) >= 2 && ids[len(ids)-1].CloseCode == 0
	})
	if err != nil {
		t.Fatalf("not identified again: Identifies() = %+v", srv.Identifies())
	}
	for _, r := range srv.Resumes() {
		if r.Accepted {
			t.Errorf("resume %+v accepted after 4004", r)
		}
	}
}

func waitFor(ctx context.Context, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

func TestSlashCommandDeferredEditAndFollowup(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := openSession(t, srv)
	got := interactions(dg)
	ctx := testContext(t)

	sent, err := srv.SendInteraction(fakediscord.Interaction{
		Name:        "brief",
		GuildID:     guildID,
		ChannelID:   chanID,
		Options:     []fakediscord.Option{fakediscord.SubCommand("now", fakediscord.StringOption("topic", "korea-talks"), fakediscord.IntegerOption("hours", 12))},
		User:        fakediscord.User{ID: "1500000000000000001", Username: "alice"},
		Permissions: discordgo.PermissionManageGuild | discordgo.PermissionViewChannel,
	})
	if err != nil {
		t.Fatal(err)
	}
	i := receive(t, got)
	if i.ID != sent.ID || i.Token != sent.Token || i.AppID != appID || i.GuildID != guildID || i.ChannelID != chanID {
		t.Errorf("interaction = %+v, want %+v", i, sent)
	}
	if i.Type != discordgo.InteractionApplicationCommand || i.Member == nil || i.Member.User.ID != "1500000000000000001" || i.Member.User.Username != "alice" {
		t.Fatalf("interaction type %v member %+v", i.Type, i.Member)
	}
	if i.Member.Permissions&discordgo.PermissionManageGuild == 0 {
		t.Errorf("member permissions = %d, want Manage Server", i.Member.Permissions)
	}
	data := i.ApplicationCommandData()
	if data.Name != "brief" || len(data.Options) != 1 || data.Options[0].Name != "now" || data.Options[0].Type != discordgo.ApplicationCommandOptionSubCommand {
		t.Fatalf("data = %+v", data)
	}
	sub := data.Options[0]
	if sub.GetOption("topic").StringValue() != "korea-talks" || sub.GetOption("hours").IntValue() != 12 {
		t.Errorf("subcommand options = %+v", sub.Options)
	}

	// Before any answer, @original does not exist and followups fail.
	if _, err := dg.InteractionResponse(i); restError(t, err).Message.Code != 10008 {
		t.Errorf("GET @original before the callback: %v", err)
	}
	if _, err := dg.FollowupMessageCreate(i, true, &discordgo.WebhookParams{Content: "early"}); restError(t, err).Message.Code != 10015 {
		t.Errorf("followup before the callback: %v", err)
	}

	if err := dg.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
		t.Fatal(err)
	}
	cb, err := srv.WaitInteractionResponse(ctx, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cb.JSON.(map[string]any)["type"] != float64(5) || cb.Status != 204 {
		t.Errorf("callback = %s (%d), want type 5", cb.Body, cb.Status)
	}
	if err := dg.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); restError(t, err).Message.Code != 40060 {
		t.Errorf("second callback: %v, want 40060", err)
	}

	content := "**Korea talks** resume"
	edited, err := dg.InteractionResponseEdit(i, &discordgo.WebhookEdit{
		Content:         &content,
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if edited.Content != content || edited.ChannelID != chanID {
		t.Errorf("edited original = %+v", edited)
	}
	msg, err := srv.WaitResponseMessage(ctx, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Content != content || string(msg.AllowedMentions) != `{"parse":[],"replied_user":false}` || msg.InteractionID != sent.ID {
		t.Errorf("response message = %+v", msg)
	}
	original, err := dg.InteractionResponse(i)
	if err != nil || original.ID != msg.ID || original.Flags&discordgo.MessageFlagsLoading != 0 {
		t.Errorf("GET @original = %+v, %v", original, err)
	}

	follow, err := dg.FollowupMessageCreate(i, true, &discordgo.WebhookParams{
		Content: "only you can see this", Flags: discordgo.MessageFlagsEphemeral,
		AllowedMentions: &discordgo.MessageAllowedMentions{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if follow.Flags&discordgo.MessageFlagsEphemeral == 0 || follow.WebhookID != appID {
		t.Errorf("followup = %+v", follow)
	}

	var routes []string
	for _, r := range srv.InteractionResponses(sent.ID) {
		routes = append(routes, r.Method+" "+r.Path[:strings.LastIndex(r.Path, "/")+1]+"…")
	}
	if len(routes) != 7 {
		t.Errorf("InteractionResponses() = %v, want GET, POST, callback, callback, PATCH, GET, POST", routes)
	}
	if got := srv.Messages(chanID); len(got) != 2 || got[0].ID != msg.ID || got[1].ID != follow.ID {
		t.Errorf("channel messages = %+v", got)
	}
}

func TestAutocomplete(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := openSession(t, srv)
	got := interactions(dg)
	ctx := testContext(t)

	sent, err := srv.SendInteraction(fakediscord.Interaction{
		Type:      fakediscord.InteractionAutocomplete,
		Name:      "brief",
		GuildID:   guildID,
		ChannelID: chanID,
		Options:   []fakediscord.Option{fakediscord.SubCommand("now", fakediscord.Focused(fakediscord.StringOption("topic", "kor")))},
	})
	if err != nil {
		t.Fatal(err)
	}
	i := receive(t, got)
	if i.Type != discordgo.InteractionApplicationCommandAutocomplete {
		t.Fatalf("type = %v", i.Type)
	}
	opt := i.ApplicationCommandData().Options[0].Options[0]
	if !opt.Focused || opt.StringValue() != "kor" {
		t.Errorf("focused option = %+v", opt)
	}
	// A message is not a valid answer to autocomplete.
	err = dg.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: &discordgo.InteractionResponseData{Content: "x"}})
	if restError(t, err).Message.Code != 50035 {
		t.Errorf("message answer to autocomplete: %v", err)
	}
	err = dg.InteractionRespond(i, &discordgo.InteractionResponse{
		Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: []*discordgo.ApplicationCommandOptionChoice{{Name: "korea-talks", Value: "korea-talks"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cb, err := srv.WaitInteractionResponse(ctx, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Type int `json:"type"`
		Data struct {
			Choices []struct{ Name, Value string } `json:"choices"`
		} `json:"data"`
	}
	if err := cb.Decode(&body); err != nil || body.Type != 8 || len(body.Data.Choices) != 1 || body.Data.Choices[0].Value != "korea-talks" {
		t.Errorf("autocomplete callback = %s, %v", cb.Body, err)
	}
}

func TestInteractionCallbackDeadline(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{CallbackDeadline: 50 * time.Millisecond})
	dg := openSession(t, srv)
	got := interactions(dg)

	if _, err := srv.SendInteraction(fakediscord.Interaction{Name: "brief", ChannelID: chanID}); err != nil {
		t.Fatal(err)
	}
	i := receive(t, got)
	if i.User == nil || i.Member != nil || i.GuildID != "" {
		t.Errorf("DM interaction: user %v member %v guild %q", i.User, i.Member, i.GuildID)
	}
	time.Sleep(100 * time.Millisecond)
	err := dg.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
	if re := restError(t, err); re.Response.StatusCode != 404 || re.Message.Code != 10062 {
		t.Errorf("late callback: %v, want 404 Unknown interaction", err)
	}
}

func TestDroppedGatewayResumesAndReplays(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := openSession(t, srv)
	got := interactions(dg)
	ctx := testContext(t)

	srv.DropGateway()
	if srv.Connected() {
		t.Error("Connected() after DropGateway")
	}
	// Sent while the bot is disconnected: replayed on RESUME.
	during, err := srv.SendInteraction(fakediscord.Interaction{Name: "brief", GuildID: guildID, ChannelID: chanID})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if i := receive(t, got); i.ID != during.ID {
		t.Errorf("replayed interaction %s, want %s", i.ID, during.ID)
	}
	after, err := srv.SendInteraction(fakediscord.Interaction{Name: "topics", GuildID: guildID, ChannelID: chanID})
	if err != nil {
		t.Fatal(err)
	}
	if i := receive(t, got); i.ID != after.ID {
		t.Errorf("interaction after resume %s, want %s", i.ID, after.ID)
	}
	rs := srv.Resumes()
	if len(rs) != 1 || !rs[0].Accepted || rs[0].Replayed < 1 {
		t.Errorf("Resumes() = %+v, want one accepted with a replay", rs)
	}
	if n := len(srv.Identifies()); n != 1 {
		t.Errorf("Identifies() = %d, want 1 (resumed, not re-identified)", n)
	}

	// Op 7 Reconnect: discordgo closes with 1012 and resumes.
	if err := waitFor(ctx, func() bool { return srv.Heartbeats() >= 2 }); err != nil {
		t.Fatal("no heartbeat on the resumed connection")
	}
	srv.RequestReconnect()
	if err := waitFor(ctx, func() bool { return len(srv.Resumes()) == 2 && srv.Connected() }); err != nil {
		t.Fatalf("after op 7: Resumes() = %+v", srv.Resumes())
	}
	if rs := srv.Resumes(); !rs[1].Accepted {
		t.Errorf("resume after op 7 = %+v", rs[1])
	}
}

func TestCommandRegistration(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := newSession(t, srv, token)

	manage := int64(discordgo.PermissionManageGuild)
	cmds := []*discordgo.ApplicationCommand{
		{Name: "brief", Description: "Post a briefing now", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "topic", Description: "Topic", Required: true, Autocomplete: true},
		}},
		{Name: "topics", Description: "Manage topics", DefaultMemberPermissions: &manage},
	}
	created, err := dg.ApplicationCommandBulkOverwrite(appID, "", cmds)
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 2 || created[0].ID == "" || created[0].ApplicationID != appID || created[1].DefaultMemberPermissions == nil || *created[1].DefaultMemberPermissions != manage {
		t.Fatalf("created = %+v", created)
	}
	again, err := dg.ApplicationCommandBulkOverwrite(appID, "", cmds[:1])
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].ID != created[0].ID {
		t.Errorf("overwrite kept %+v, want brief with ID %s", again, created[0].ID)
	}
	listed, err := dg.ApplicationCommands(appID, "")
	if err != nil || len(listed) != 1 || listed[0].Name != "brief" {
		t.Errorf("ApplicationCommands = %+v, %v", listed, err)
	}
	if _, err := dg.ApplicationCommandBulkOverwrite(appID, guildID, cmds[1:]); err != nil {
		t.Fatal(err)
	}
	if got := srv.Commands(guildID); len(got) != 1 || got[0].Name != "topics" || got[0].GuildID != guildID {
		t.Errorf("Commands(guild) = %+v", got)
	}

	bad := []*discordgo.ApplicationCommand{{Name: "Brief", Description: "upper case"}, {Name: "ok", Description: "", Options: []*discordgo.ApplicationCommandOption{
		{Type: discordgo.ApplicationCommandOptionString, Name: "a", Description: "a"},
		{Type: discordgo.ApplicationCommandOptionString, Name: "b", Description: "b", Required: true},
	}}}
	_, err = dg.ApplicationCommandBulkOverwrite(appID, "", bad)
	re := restError(t, err)
	for _, want := range []string{`"0":{"name"`, `"APPLICATION_COMMAND_INVALID_NAME"`, `"1":{"description"`, `APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID`} {
		if !strings.Contains(string(re.ResponseBody), want) {
			t.Errorf("invalid commands: %s lacks %s", re.ResponseBody, want)
		}
	}
	if _, err := dg.ApplicationCommandBulkOverwrite(appID, "1200000000000000099", cmds); restError(t, err).Message.Code != 50001 {
		t.Errorf("guild the bot is not in: %v", err)
	}

	// An interaction for a registered command carries its ID.
	dgw := openSession(t, srv)
	got := interactions(dgw)
	if _, err := srv.SendInteraction(fakediscord.Interaction{Name: "brief", GuildID: guildID, ChannelID: chanID}); err != nil {
		t.Fatal(err)
	}
	if i := receive(t, got); i.ApplicationCommandData().ID != created[0].ID {
		t.Errorf("command ID in the interaction = %s, want %s", i.ApplicationCommandData().ID, created[0].ID)
	}
}

func TestClientRefusesOtherHosts(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	if _, err := srv.Client().Get("https://example.com/"); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("request to another host: %v", err)
	}
	resp, err := srv.Client().Get(srv.URL() + "/api/v10/gateway")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ URL string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.URL != srv.GatewayURL() || !strings.HasPrefix(body.URL, "ws://127.0.0.1:") {
		t.Errorf("GET /gateway = %+v, %v", body, err)
	}
}

// endpoint is an Interactions Endpoint URL for tests: it checks the
// signature with discordgo's VerifyInteraction (unless trusting), answers
// PING with PONG and other interactions with answer.
func endpoint(t *testing.T, srv *fakediscord.Server, trusting bool, answer string) string {
	t.Helper()
	key, err := hex.DecodeString(srv.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !trusting && !discordgo.VerifyInteraction(r, ed25519.PublicKey(key)) {
			http.Error(w, "invalid request signature", http.StatusUnauthorized)
			return
		}
		var i struct{ Type int }
		json.NewDecoder(r.Body).Decode(&i)
		w.Header().Set("Content-Type", "application/json")
		if i.Type == 1 {
			w.Write([]byte(`{"type":1}`))
			return
		}
		w.Write([]byte(answer))
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestVerifyEndpoint(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	ctx := testContext(t)
	if err := srv.VerifyEndpoint(ctx, endpoint(t, srv, false, "")); err != nil {
		t.Errorf("an endpoint that checks signatures: %v", err)
	}
	if err := srv.VerifyEndpoint(ctx, endpoint(t, srv, true, "")); err == nil {
		t.Error("an endpoint that trusts every request passed")
	}
}

func TestPostInteractionAnswerIsTheCallback(t *testing.T) {
	t.Parallel()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, fakediscord.Options{SigningKey: priv})
	if srv.PublicKey() != hex.EncodeToString(pub) {
		t.Fatalf("PublicKey() = %s, want the public half of SigningKey", srv.PublicKey())
	}
	ctx := testContext(t)
	url := endpoint(t, srv, false, `{"type":4,"data":{"content":"hello","flags":64,"allowed_mentions":{"parse":[]}}}`)
	sent, resp, err := srv.PostInteraction(ctx, url, fakediscord.Interaction{Name: "brief", GuildID: guildID, ChannelID: chanID})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 {
		t.Fatalf("endpoint answered %d %s", resp.Status, resp.Body)
	}
	cb, err := srv.WaitInteractionResponse(ctx, sent.ID)
	if err != nil || !cb.Endpoint || cb.Status != 204 || cb.JSON.(map[string]any)["type"] != float64(4) {
		t.Fatalf("callback = %+v, %v", cb, err)
	}
	msg, err := srv.WaitResponseMessage(ctx, sent.ID)
	if err != nil || msg.Content != "hello" {
		t.Errorf("response message = %+v, %v", msg, err)
	}
	// The payload is what the gateway would dispatch.
	var i discordgo.Interaction
	if err := json.Unmarshal(sent.Payload, &i); err != nil || i.ID != sent.ID || i.AppID != appID || i.ApplicationCommandData().Name != "brief" {
		t.Errorf("payload %s decodes to %+v, %v", sent.Payload, i, err)
	}

	// A wrong answer leaves the interaction unanswered.
	bad := endpoint(t, srv, false, `{"type":8}`)
	sent, _, err = srv.PostInteraction(ctx, bad, fakediscord.Interaction{Name: "brief", GuildID: guildID, ChannelID: chanID})
	if err != nil {
		t.Fatal(err)
	}
	rs := srv.InteractionResponses(sent.ID)
	if len(rs) != 1 || rs[0].Status != 400 || !rs[0].Endpoint {
		t.Errorf("responses to a bad answer = %+v, want one refused", rs)
	}
}

func TestApplicationEndpoint(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := newSession(t, srv, token)
	app, err := dg.Application("@me")
	if err != nil {
		t.Fatal(err)
	}
	if app.ID != appID || app.VerifyKey != srv.PublicKey() || app.Name != "briefbot" {
		t.Errorf("application = %+v", app)
	}
}

func TestSignatureHeaders(t *testing.T) {
	t.Parallel()
	pub, priv, _ := ed25519.GenerateKey(nil)
	at := time.Unix(1700000000, 0)
	h := fakediscord.SignatureHeaders(priv, at, []byte(`{"type":1}`))
	sig, err := hex.DecodeString(h.Get("X-Signature-Ed25519"))
	if err != nil || h.Get("X-Signature-Timestamp") != "1700000000" || !ed25519.Verify(pub, []byte(`1700000000{"type":1}`), sig) {
		t.Errorf("headers %v do not sign timestamp+body", h)
	}
}

// TestSendInteractionsBurstAndTimes sends a burst of interactions in
// three guilds; each arrives once, and the callbacks' recorded times,
// with Latency, tell how long each took to be answered.
func TestSendInteractionsBurstAndTimes(t *testing.T) {
	t.Parallel()
	const latency = 30 * time.Millisecond
	guilds := []string{guildID, "1200000000000000002", "1200000000000000003"}
	srv := newServer(t, fakediscord.Options{Guilds: guilds, Latency: latency})
	dg := openSession(t, srv)
	got := make(chan *discordgo.Interaction, 64)
	dg.AddHandler(func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
		err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
		if err != nil {
			t.Errorf("defer %s: %v", ic.ID, err)
		}
		got <- ic.Interaction
	})

	var burst []fakediscord.Interaction
	for n := range 30 {
		burst = append(burst, fakediscord.Interaction{Name: "brief", GuildID: guilds[n%3], ChannelID: "130000000000000000" + strconv.Itoa(n%3)})
	}
	if _, err := srv.SendInteractions(append(burst, fakediscord.Interaction{ChannelID: chanID})); err == nil {
		t.Error("a burst with an interaction without Name was sent")
	}
	sent, err := srv.SendInteractions(burst)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range sent {
		i := receive(t, got)
		if seen[i.ID] {
			t.Errorf("interaction %s received twice", i.ID)
		}
		seen[i.ID] = true
	}
	ctx := testContext(t)
	for n, si := range sent {
		if !seen[si.ID] {
			t.Errorf("interaction %d (%s) not received", n, si.ID)
		}
		if si.SentAt.IsZero() || (n > 0 && si.SentAt.Before(sent[n-1].SentAt)) {
			t.Errorf("interaction %d SentAt %v, after %v", n, si.SentAt, sent[max(n-1, 0)].SentAt)
		}
		cb, err := srv.WaitInteractionResponse(ctx, si.ID)
		if err != nil {
			t.Fatal(err)
		}
		if took := cb.Answered.Sub(si.SentAt); took < latency || cb.Answered.Sub(cb.Received) < latency || cb.Received.Before(si.SentAt) {
			t.Errorf("interaction %d: sent %v, callback received %v, answered %v; want answered at least %v after both",
				n, si.SentAt, cb.Received, cb.Answered, latency)
		}
	}
	if _, err := fakediscord.New(t, fakediscord.Options{}).SendInteractions(burst[:1]); err == nil {
		t.Error("SendInteractions without a session succeeded")
	}
}

package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"
)

// manualClock is a clock that moves only when told.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newManualClock() *manualClock {
	return &manualClock{t: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newPreviewEnv is a running bot whose clock is clock, answering
// briefings of stories stories.
func newPreviewEnv(t *testing.T, stories int, clock *manualClock) *env {
	t.Helper()
	e := newEnv(t, &fakeService{stories: stories})
	e.configure = func(c *Config) { c.Now = clock.Now }
	e.bot = e.newBot()
	e.start()
	return e
}

// previewBrief is /brief on the test topic with preview:True.
var previewBrief = fakediscord.Interaction{Name: "brief", Options: []fakediscord.Option{
	fakediscord.StringOption("topic", "korea-talks"), fakediscord.BooleanOption("preview", true),
}}

// wantMessages is what the bot renders for the test topic's briefing.
func wantMessages(stories int, now time.Time) []Message {
	return Render(testBriefing(BriefRequest{GuildID: testGuild, Topic: "korea-talks", Since: 24 * time.Hour}, stories), now)
}

// waitPreview waits until the answer to a /brief preview is n messages of
// the interaction (the deferred one filled in, then follow-ups) and
// returns them.
func (e *env) waitPreview(sent fakediscord.SentInteraction, n int) []fakediscord.Message {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got []fakediscord.Message
	for time.Now().Before(deadline) {
		got = got[:0]
		for _, m := range e.srv.Messages(testChannel) {
			if m.InteractionID == sent.ID {
				got = append(got, m)
			}
		}
		if len(got) == n && len(got[0].Embeds) > 0 && len(got[n-1].Embeds) > 0 {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("the preview is %d messages, want %d: %+v", len(got), n, got)
	return nil
}

// waitContent waits until a message's content starts with prefix and
// returns it.
func (e *env) waitContent(id, prefix string) fakediscord.Message {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var m fakediscord.Message
	for time.Now().Before(deadline) {
		m, _ = e.srv.Message(id)
		if strings.HasPrefix(m.Content, prefix) {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("message %s says %q, want it to start %q", id, m.Content, prefix)
	return m
}

// public returns the channel's messages that everyone sees.
func (e *env) public() []fakediscord.Message {
	var out []fakediscord.Message
	for _, m := range e.srv.Messages(testChannel) {
		if m.Flags&int64(discordgo.MessageFlagsEphemeral) == 0 {
			out = append(out, m)
		}
	}
	return out
}

// postID returns the custom_id of the preview's "Post to channel" button.
func postID(t *testing.T, preview []fakediscord.Message) string {
	t.Helper()
	buttons := preview[len(preview)-1].Buttons()
	if len(buttons) != 1 || buttons[0].Label != "Post to channel" || buttons[0].Disabled || !strings.HasPrefix(buttons[0].CustomID, postPrefix) {
		t.Fatalf("the preview's last message has buttons %+v, want one enabled \"Post to channel\"", buttons)
	}
	return buttons[0].CustomID
}

// embedsJSON is how the fake stores embeds: as sent, type "rich" added.
func embedsJSON(t *testing.T, embeds []*discordgo.MessageEmbed) []any {
	t.Helper()
	var out []any
	for _, em := range embeds {
		b, err := json.Marshal(em)
		if err != nil {
			t.Fatal(err)
		}
		var o map[string]any
		json.Unmarshal(b, &o)
		if _, ok := o["type"]; !ok {
			o["type"] = "rich"
		}
		out = append(out, o)
	}
	return out
}

func storedEmbeds(m fakediscord.Message) []any {
	var out []any
	for _, raw := range m.Embeds {
		var o any
		json.Unmarshal(raw, &o)
		out = append(out, o)
	}
	return out
}

const noMentionsJSON = `{"parse":[],"replied_user":false}`

// checkSafe fails unless m was sent with allowed_mentions parsing
// nothing and pings no one.
func checkSafe(t *testing.T, what string, m fakediscord.Message) {
	t.Helper()
	if string(m.AllowedMentions) != noMentionsJSON {
		t.Errorf("%s: allowed_mentions = %s, want %s", what, m.AllowedMentions, noMentionsJSON)
	}
	if m.Mentions.Everyone || len(m.Mentions.Users) > 0 || len(m.Mentions.Roles) > 0 {
		t.Errorf("%s pings: %+v", what, m.Mentions)
	}
}

var partTagLine = regexp.MustCompile(`\n?-# ref [0-9a-f]{8}-(\d+)$`)

// TestBriefPreviewPostsRenderedBriefingOnce: /brief preview:True answers
// only the user, ephemerally, with the briefing rendered as /brief posts
// it (several messages here) and a "Post to channel" button on the last;
// nothing is in the channel until the click, which posts the same
// messages (part tags added, as on scheduled posts) once, without
// building the briefing again, mentions disabled everywhere, and updates
// the preview to say where it went.
func TestBriefPreviewPostsRenderedBriefingOnce(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	e := newPreviewEnv(t, 14, clock)
	var brief struct {
		Options []struct {
			Name string `json:"name"`
			Type int    `json:"type"`
		} `json:"options"`
	}
	for _, c := range e.srv.Commands("") {
		if c.Name == "brief" {
			json.Unmarshal(c.JSON, &brief)
		}
	}
	if n := len(brief.Options); n == 0 || brief.Options[n-1].Name != "preview" || brief.Options[n-1].Type != int(discordgo.ApplicationCommandOptionBoolean) {
		t.Errorf("registered /brief options %+v, want a boolean preview last", brief.Options)
	}

	want := wantMessages(14, clock.Now())
	if len(want) < 2 {
		t.Fatalf("the test briefing renders as %d message, want several", len(want))
	}
	sent := e.send(previewBrief)
	if typ, _, flags := e.reply(sent); typ != int(discordgo.InteractionResponseDeferredChannelMessageWithSource) || flags&int64(discordgo.MessageFlagsEphemeral) == 0 {
		t.Errorf("first answer type %d flags %d, want an ephemeral deferral", typ, flags)
	}
	preview := e.waitPreview(sent, len(want))
	for i, m := range preview {
		what := fmt.Sprintf("preview part %d", i+1)
		if m.Flags&int64(discordgo.MessageFlagsEphemeral) == 0 {
			t.Errorf("%s is not ephemeral (flags %d)", what, m.Flags)
		}
		if m.Content != want[i].Content {
			t.Errorf("%s content %q, want %q", what, m.Content, want[i].Content)
		}
		if diff := cmp.Diff(storedEmbeds(m), embedsJSON(t, want[i].Embeds)); diff != "" {
			t.Errorf("%s embeds differ from the rendered briefing (-got +want):\n%s", what, diff)
		}
		checkSafe(t, what, m)
		if i < len(preview)-1 && len(m.Buttons()) > 0 {
			t.Errorf("%s has buttons %+v, want them on the last part only", what, m.Buttons())
		}
	}
	id := postID(t, preview)
	if len(id) > 100 {
		t.Errorf("custom_id %q is %d characters, over Discord's 100", id, len(id))
	}
	if n := len(e.public()); n != 0 {
		t.Fatalf("%d messages in the channel before the click, want none", n)
	}

	last := preview[len(preview)-1]
	click := e.send(fakediscord.Click(last, id))
	if typ, _, _ := e.reply(click); typ != int(discordgo.InteractionResponseUpdateMessage) {
		t.Errorf("the click was answered with type %d, want an update of the preview (7)", typ)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.srv.WaitMessages(ctx, testChannel, len(preview)+len(want)); err != nil {
		t.Fatal(err)
	}
	updated := e.waitContent(last.ID, "**Posted** to <#"+testChannel+">")
	posted := e.public()
	if len(posted) != len(want) {
		t.Fatalf("%d messages posted, want the %d parts", len(posted), len(want))
	}
	for i, m := range posted {
		what := fmt.Sprintf("posted part %d", i+1)
		tag := partTagLine.FindStringSubmatch(m.Content)
		if tag == nil || tag[1] != fmt.Sprint(i+1) {
			t.Errorf("%s content %q has no part tag %d", what, m.Content, i+1)
		} else if got := strings.TrimSuffix(m.Content, tag[0]); got != want[i].Content {
			t.Errorf("%s content %q, want %q and its tag", what, got, want[i].Content)
		}
		if diff := cmp.Diff(storedEmbeds(m), embedsJSON(t, want[i].Embeds)); diff != "" {
			t.Errorf("%s embeds differ from the preview's (-got +want):\n%s", what, diff)
		}
		if m.InteractionID != "" || len(m.Components) != 0 {
			t.Errorf("%s is an interaction response or has components: %+v", what, m)
		}
		checkSafe(t, what, m)
	}
	if !strings.Contains(updated.Content, "https://discord.com/channels/"+testGuild+"/"+testChannel+"/"+posted[0].ID) {
		t.Errorf("updated preview %q, want a link to the posted briefing", updated.Content)
	}
	if len(updated.Buttons()) != 0 || updated.Flags&int64(discordgo.MessageFlagsEphemeral) == 0 {
		t.Errorf("updated preview has buttons %+v (flags %d), want none, still ephemeral", updated.Buttons(), updated.Flags)
	}
	if diff := cmp.Diff(storedEmbeds(updated), embedsJSON(t, want[len(want)-1].Embeds)); diff != "" {
		t.Errorf("the updated preview lost its embeds (-got +want):\n%s", diff)
	}
	checkSafe(t, "updated preview", updated)
	if n := e.svc.calls.Load(); n != 1 {
		t.Errorf("briefing built %d times, want once", n)
	}
}

// TestBriefPreviewDoubleClickPostsOnce: two clicks at once (and the first
// delivered again) post the briefing once; the click that lost is told
// so, ephemerally.
func TestBriefPreviewDoubleClickPostsOnce(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	e := newPreviewEnv(t, 14, clock)
	want := wantMessages(14, clock.Now())
	preview := e.waitPreview(e.send(previewBrief), len(want))
	id := postID(t, preview)
	last := preview[len(preview)-1]
	clicks, err := e.srv.SendInteractions([]fakediscord.Interaction{fakediscord.Click(last, id), fakediscord.Click(last, id)})
	if err != nil {
		t.Fatal(err)
	}
	var updates, refusals int
	for _, c := range clicks {
		switch typ, content, flags := e.reply(c); {
		case typ == int(discordgo.InteractionResponseUpdateMessage):
			updates++
		case typ == int(discordgo.InteractionResponseChannelMessageWithSource) && flags&int64(discordgo.MessageFlagsEphemeral) != 0 &&
			strings.Contains(content, "posted already"):
			refusals++
		default:
			t.Errorf("a click answered with type %d %q", typ, content)
		}
	}
	if updates != 1 || refusals != 1 {
		t.Errorf("%d updates and %d refusals, want one of each", updates, refusals)
	}
	e.waitContent(last.ID, "**Posted**")
	e.srv.Dispatch("INTERACTION_CREATE", clicks[0].Payload) // Discord delivers a click twice
	time.Sleep(300 * time.Millisecond)
	if n := len(e.public()); n != len(want) {
		t.Errorf("%d messages posted after a double click, want the %d parts once", n, len(want))
	}
	if _, err := e.srv.SendInteraction(fakediscord.Click(last, id)); err == nil {
		t.Error("the posted preview still has its button")
	}
}

// TestBriefPreviewExpired: a click after 15 minutes, or after a restart
// (the preview is gone from memory), is answered ephemerally and posts
// nothing.
func TestBriefPreviewExpired(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	e := newPreviewEnv(t, 2, clock)
	const expired = "This preview has expired; run /brief again."
	check := func(what string, preview []fakediscord.Message) {
		t.Helper()
		click := e.send(fakediscord.Click(preview[len(preview)-1], postID(t, preview)))
		if content, ephemeral := e.answer(click); !ephemeral || content != expired {
			t.Errorf("%s: answer %q (ephemeral %v), want %q, ephemeral", what, content, ephemeral, expired)
		}
		if n := len(e.public()); n != 0 {
			t.Errorf("%s: %d messages posted, want none", what, n)
		}
	}
	n := len(wantMessages(2, clock.Now()))
	old := e.waitPreview(e.send(previewBrief), n)
	clock.Advance(previewTTL + time.Second)
	check("after 15 minutes", old)

	fresh := e.waitPreview(e.send(previewBrief), n)
	e.stop()
	e.bot = e.newBot()
	e.start()
	check("after a restart", fresh)
}

// TestBriefPreviewOtherUserRefused: someone else's click (Discord shows
// an ephemeral preview to its user only, but the bot checks anyway) is
// refused ephemerally and leaves the preview as it was; its user's own
// click posts it.
func TestBriefPreviewOtherUserRefused(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	e := newPreviewEnv(t, 2, clock)
	n := len(wantMessages(2, clock.Now()))
	preview := e.waitPreview(e.send(previewBrief), n)
	id := postID(t, preview)
	last := preview[len(preview)-1]
	other := fakediscord.Click(last, id)
	other.User = fakediscord.User{ID: "400000000000000009", Username: "mallory"}
	content, ephemeral := e.answer(e.send(other))
	if !ephemeral || !strings.Contains(content, "Only the person who ran /brief") {
		t.Errorf("another user's click: %q (ephemeral %v), want an ephemeral refusal", content, ephemeral)
	}
	if m, _ := e.srv.Message(last.ID); m.Content != last.Content || len(m.Buttons()) != 1 || m.Buttons()[0].Disabled {
		t.Errorf("the preview changed after another user's click: %+v", m)
	}
	if n := len(e.public()); n != 0 {
		t.Fatalf("%d messages posted for another user's click, want none", n)
	}
	e.send(fakediscord.Click(last, id))
	e.waitContent(last.ID, "**Posted**")
	if got := len(e.public()); got != n {
		t.Errorf("%d messages posted, want %d", got, n)
	}
}

// TestBriefPreviewMissingPermissions: when the click's app_permissions
// say the bot cannot send messages in the channel, nothing is tried;
// when they are stale and Discord refuses the post with 403 Missing
// Permissions (50013), the preview says so; both times the button stays
// usable, and once the permission is back a click posts the briefing
// once, as a delivery of its own.
func TestBriefPreviewMissingPermissions(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	e := newPreviewEnv(t, 2, clock)
	want := wantMessages(2, clock.Now())
	preview := e.waitPreview(e.send(previewBrief), len(want))
	id := postID(t, preview)
	last := preview[len(preview)-1]
	enabled := func(what string) {
		t.Helper()
		m, _ := e.srv.Message(last.ID)
		if b := m.Buttons(); len(b) != 1 || b[0].Disabled {
			t.Errorf("%s: buttons %+v, want the button usable", what, b)
		}
		if n := len(e.public()); n != 0 {
			t.Errorf("%s: %d messages posted, want none", what, n)
		}
	}

	e.srv.SetBotPermissions(testChannel, fakediscord.DefaultPermissions&^discordgo.PermissionSendMessages)
	if typ, _, _ := e.reply(e.send(fakediscord.Click(last, id))); typ != int(discordgo.InteractionResponseUpdateMessage) {
		t.Errorf("click without Send Messages answered with type %d, want 7", typ)
	}
	m := e.waitContent(last.ID, "**Not posted:**")
	if !strings.Contains(m.Content, "missing the Send Messages permission in <#"+testChannel+">") {
		t.Errorf("preview says %q, want it to name the missing permission", m.Content)
	}
	if n := len(e.srv.RequestsTo("POST /channels/*/messages")); n != 0 {
		t.Errorf("%d posts tried without Send Messages, want none", n)
	}
	enabled("app_permissions without Send Messages")

	stale := fakediscord.Click(last, id)
	stale.AppPermissions = fakediscord.DefaultPermissions
	e.reply(e.send(stale))
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m, _ = e.srv.Message(last.ID); strings.Contains(m.Content, "Missing Permissions") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.HasPrefix(m.Content, "**Not posted:** Discord says briefbot may not post in <#"+testChannel+"> (Missing Permissions)") {
		t.Errorf("after a 403 the preview says %q", m.Content)
	}
	enabled("403 Missing Permissions")
	checkSafe(t, "updated preview", m)

	e.srv.SetBotPermissions(testChannel, 0)
	e.send(fakediscord.Click(last, id))
	e.waitContent(last.ID, "**Posted**")
	if n := len(e.public()); n != len(want) {
		t.Errorf("%d messages posted, want %d", n, len(want))
	}
	ctx := context.Background()
	key := "brief:" + strings.TrimPrefix(id, postPrefix)
	if d, err := e.store.Delivery(ctx, key+":0"); err != nil || d.State != digest.DeliveryFailed || !strings.Contains(d.Error, "Missing Permissions") {
		t.Errorf("refused delivery %+v (%v), want failed with Discord's reason", d, err)
	}
	if d, err := e.store.Delivery(ctx, key+":1"); err != nil || d.State != digest.DeliveryDone || len(d.MessageIDs) != len(want) || d.ChannelID != testChannel {
		t.Errorf("posted delivery %+v (%v), want done with %d parts", d, err, len(want))
	}
}

// TestBriefPreviewNothingFound: a preview of a briefing without stories
// is the public answer, ephemeral, with no button: there is nothing to
// post.
func TestBriefPreviewNothingFound(t *testing.T) {
	t.Parallel()
	clock := newManualClock()
	e := newPreviewEnv(t, 0, clock)
	want := wantMessages(0, clock.Now())
	m := e.waitPreview(e.send(previewBrief), len(want))[0]
	if m.Flags&int64(discordgo.MessageFlagsEphemeral) == 0 || len(m.Buttons()) != 0 {
		t.Errorf("preview of nothing: flags %d, buttons %+v; want ephemeral, no button", m.Flags, m.Buttons())
	}
	if diff := cmp.Diff(storedEmbeds(m), embedsJSON(t, want[0].Embeds)); diff != "" {
		t.Errorf("embeds (-got +want):\n%s", diff)
	}
}

// TestBriefPreviewOverHTTP: in HTTP interactions mode the deferral and
// the click's update are the bodies of the answers to Discord's POSTs;
// the preview is posted as over the gateway.
func TestBriefPreviewOverHTTP(t *testing.T) {
	t.Parallel()
	e := newHTTPEnv(t, &fakeService{stories: 14})
	url := e.serve()
	sent, resp := e.post(url, previewBrief)
	var answer discordgo.InteractionResponse
	if err := json.Unmarshal(resp.Body, &answer); err != nil || answer.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource ||
		answer.Data == nil || answer.Data.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Fatalf("answer to /brief preview:True: %d %s, want an ephemeral deferral", resp.Status, resp.Body)
	}
	n := len(wantMessages(14, time.Now()))
	preview := e.waitPreview(sent, n)
	last := preview[len(preview)-1]
	_, resp = e.post(url, fakediscord.Click(last, postID(t, preview)))
	var update struct{ Type int }
	if err := json.Unmarshal(resp.Body, &update); err != nil || update.Type != int(discordgo.InteractionResponseUpdateMessage) {
		t.Fatalf("answer to the click: %d %s, want an update (7)", resp.Status, resp.Body)
	}
	e.waitContent(last.ID, "**Posted**")
	if got := len(e.public()); got != n {
		t.Errorf("%d messages posted, want %d", got, n)
	}
}

func TestPreviewSetExpiresAndEvictsOldest(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	s := newPreviewSet(time.Minute, 2)
	for i, id := range []string{"a", "b", "c"} {
		s.add(&preview{id: id, created: now.Add(time.Duration(i) * time.Second)}, now.Add(time.Duration(i)*time.Second))
	}
	if s.get("a", now) != nil || s.get("b", now) == nil || s.get("c", now) == nil {
		t.Errorf("after three adds with room for two, want the oldest gone")
	}
	if s.get("b", now.Add(time.Minute+2*time.Second)) != nil {
		t.Errorf("a preview older than its TTL was returned")
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/briefbot/briefbot/internal/fakeopenai"
)

// TestRunBriefPreviewPostsOnce runs /brief preview:True through briefbot
// run, with a language model: the briefing is shown only to its user,
// nothing reaches the channel until the "Post to channel" click, which
// posts the previewed embeds once without asking the model again.
func TestRunBriefPreviewPostsOnce(t *testing.T) {
	const guild, channel = "100000000000000001", "200000000000000001"
	srv := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: "tok", Guilds: []string{guild}})
	srv.AddChannel(fakediscord.Channel{ID: channel, GuildID: guild, Name: "news"})
	ai := fakeopenai.New(t)
	ai.Otherwise(fakeopenai.Response{Func: fakeopenai.FirstSentence})
	c := newsCLI(t, korea, map[string]string{"DISCORD_TOKEN": "tok", "BRIEFBOT_DISCORD_API_URL": srv.URL(),
		"OPENAI_BASE_URL": ai.URL(), "OPENAI_API_KEY": "sk-test", "BRIEFBOT_MODEL": "test-model"})
	clk := &clock{now: fixtureNow}
	c.now = clk.Now

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, errOut bytes.Buffer
	go func() {
		done <- runAt(ctx, []string{"--log-level", "error", "run", "--tick", "1s"}, func(k string) string { return c.env[k] }, strings.NewReader(""), &out, &errOut, c.now)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v\n%s", err, errOut.String())
		}
	}()
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := srv.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	for len(srv.Commands("")) == 0 && wctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	waitPolled(t, c, 3)

	sent, err := srv.SendInteraction(fakediscord.Interaction{Name: "brief", GuildID: guild, ChannelID: channel,
		Options: []fakediscord.Option{fakediscord.StringOption("topic", "korea-talks"), fakediscord.BooleanOption("preview", true)}})
	if err != nil {
		t.Fatal(err)
	}
	var preview []fakediscord.Message
	for wctx.Err() == nil {
		preview = slices.DeleteFunc(srv.Messages(channel), func(m fakediscord.Message) bool { return m.InteractionID != sent.ID })
		if n := len(preview); n > 0 && len(preview[n-1].Buttons()) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if wctx.Err() != nil {
		t.Fatalf("no preview with a button\n%s", errOut.String())
	}
	calls := ai.Calls()
	if calls == 0 {
		t.Error("the preview was written without the language model")
	}
	for _, m := range preview {
		if m.Flags&64 == 0 {
			t.Errorf("preview message %s is not ephemeral", m.ID)
		}
	}
	public := func() []fakediscord.Message {
		return slices.DeleteFunc(srv.Messages(channel), func(m fakediscord.Message) bool { return m.Flags&64 != 0 })
	}
	if n := len(public()); n != 0 {
		t.Fatalf("%d messages in the channel before the click", n)
	}

	last := preview[len(preview)-1]
	if _, err := srv.SendInteraction(fakediscord.Click(last, last.Buttons()[0].CustomID)); err != nil {
		t.Fatal(err)
	}
	for wctx.Err() == nil {
		if m, _ := srv.Message(last.ID); strings.HasPrefix(m.Content, "**Posted**") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	posted := public()
	if len(posted) != len(preview) {
		t.Fatalf("%d messages posted, want the preview's %d\n%s", len(posted), len(preview), errOut.String())
	}
	for i, m := range posted {
		if !slices.EqualFunc(m.Embeds, preview[i].Embeds, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
			t.Errorf("posted part %d's embeds differ from the preview's", i+1)
		}
		if string(m.AllowedMentions) != `{"parse":[],"replied_user":false}` {
			t.Errorf("posted part %d: allowed_mentions = %s", i+1, m.AllowedMentions)
		}
	}
	if n := ai.Calls(); n != calls {
		t.Errorf("%d language model calls after the click, want the preview's %d", n, calls)
	}
}

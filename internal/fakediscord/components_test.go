package fakediscord_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/briefbot/briefbot/internal/fakediscord"
)

// postRow is an action row with one "Post" button.
func postRow(customID string, disabled bool) []discordgo.MessageComponent {
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Post", Style: discordgo.PrimaryButton, CustomID: customID, Disabled: disabled},
	}}}
}

// TestButtonClickUpdatesMessage: an ephemeral answer with a button is
// stored with its components; a click on it is dispatched as a
// MESSAGE_COMPONENT interaction by the user it answered, carrying the
// message; a type 7 answer edits that message, which becomes the click's
// @original.
func TestButtonClickUpdatesMessage(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := openSession(t, srv)
	got := interactions(dg)
	ctx := testContext(t)
	alice := fakediscord.User{ID: "1500000000000000001", Username: "alice"}

	cmd, err := srv.SendInteraction(fakediscord.Interaction{Name: "brief", GuildID: guildID, ChannelID: chanID, User: alice})
	if err != nil {
		t.Fatal(err)
	}
	i := receive(t, got)
	if err := dg.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "preview", Flags: discordgo.MessageFlagsEphemeral, Components: postRow("post:1", false)}}); err != nil {
		t.Fatal(err)
	}
	preview, err := srv.WaitResponseMessage(ctx, cmd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if preview.Flags&int64(discordgo.MessageFlagsEphemeral) == 0 {
		t.Errorf("preview flags %d, want ephemeral", preview.Flags)
	}
	if b := preview.Buttons(); len(b) != 1 || b[0].CustomID != "post:1" || b[0].Label != "Post" || b[0].Style != 1 || b[0].Disabled {
		t.Fatalf("preview buttons = %+v", b)
	}

	click, err := srv.SendInteraction(fakediscord.Click(preview, "post:1"))
	if err != nil {
		t.Fatal(err)
	}
	ci := receive(t, got)
	if ci.Type != discordgo.InteractionMessageComponent || ci.ID != click.ID {
		t.Fatalf("click interaction type %v id %s", ci.Type, ci.ID)
	}
	data := ci.MessageComponentData()
	if data.CustomID != "post:1" || data.ComponentType != discordgo.ButtonComponent {
		t.Errorf("click data = %+v", data)
	}
	if ci.Message == nil || ci.Message.ID != preview.ID || ci.Member == nil || ci.Member.User.ID != alice.ID || ci.GuildID != guildID {
		t.Fatalf("click message %+v, member %+v", ci.Message, ci.Member)
	}
	if len(ci.Message.Components) != 1 {
		t.Errorf("clicked message components = %+v", ci.Message.Components)
	}

	if err := dg.InteractionRespond(ci, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseUpdateMessage,
		Data: &discordgo.InteractionResponseData{Content: "posting", Components: postRow("post:1", true)}}); err != nil {
		t.Fatal(err)
	}
	updated, err := srv.WaitResponseMessage(ctx, click.ID)
	if err != nil {
		t.Fatal(err)
	}
	if updated.ID != preview.ID || updated.Content != "posting" || !updated.Edited || updated.Flags&int64(discordgo.MessageFlagsEphemeral) == 0 {
		t.Errorf("updated message = %+v, want the preview, edited, still ephemeral", updated)
	}
	if b := updated.Buttons(); len(b) != 1 || !b[0].Disabled {
		t.Errorf("buttons after the update = %+v, want one disabled", b)
	}
	if _, err := srv.SendInteraction(fakediscord.Click(updated, "post:1")); err == nil {
		t.Error("a click on a disabled button was sent")
	}

	// The click's @original is the preview: editing it edits the preview.
	done := "posted"
	none := []discordgo.MessageComponent{}
	if _, err := dg.InteractionResponseEdit(ci, &discordgo.WebhookEdit{Content: &done, Components: &none}); err != nil {
		t.Fatal(err)
	}
	m, _ := srv.Message(preview.ID)
	if m.Content != "posted" || len(m.Buttons()) != 0 {
		t.Errorf("preview after editing the click's @original = %+v", m)
	}
	if _, err := srv.SendInteraction(fakediscord.Click(m, "post:1")); err == nil {
		t.Error("a click on a removed button was sent")
	}
	if n := len(srv.Messages(chanID)); n != 1 {
		t.Errorf("%d messages in the channel, want the preview only", n)
	}

	// A command interaction cannot be answered with an update.
	cmd2, _ := srv.SendInteraction(fakediscord.Interaction{Name: "brief", GuildID: guildID, ChannelID: chanID})
	i2 := receive(t, got)
	err = dg.InteractionRespond(i2, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseUpdateMessage, Data: &discordgo.InteractionResponseData{Content: "x"}})
	if re := restError(t, err); re.Message.Code != 50035 {
		t.Errorf("type 7 for a command: %v, want 50035", err)
	}
	_ = cmd2
}

// TestButtonClickOverHTTP: a click delivered to an Interactions Endpoint
// URL is answered by the body of the 200, here a type 7 update.
func TestButtonClickOverHTTP(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	ctx := testContext(t)
	withButton := `{"type":4,"data":{"content":"preview","flags":64,"components":[{"type":1,"components":[{"type":2,"style":1,"label":"Post","custom_id":"post:2"}]}]}}`
	sent, _, err := srv.PostInteraction(ctx, endpoint(t, srv, false, withButton), fakediscord.Interaction{Name: "brief", GuildID: guildID, ChannelID: chanID})
	if err != nil {
		t.Fatal(err)
	}
	preview, err := srv.WaitResponseMessage(ctx, sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	update := `{"type":7,"data":{"content":"posted","components":[]}}`
	click, resp, err := srv.PostInteraction(ctx, endpoint(t, srv, false, update), fakediscord.Click(preview, "post:2"))
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("click answered %d, %v", resp.Status, err)
	}
	var payload discordgo.Interaction
	if err := json.Unmarshal(click.Payload, &payload); err != nil || payload.Message == nil || payload.Message.ID != preview.ID {
		t.Fatalf("click payload %s: %v", click.Payload, err)
	}
	m, err := srv.WaitResponseMessage(ctx, click.ID)
	if err != nil || m.ID != preview.ID || m.Content != "posted" || len(m.Buttons()) != 0 {
		t.Errorf("after the update: %+v, %v", m, err)
	}
}

func TestComponentValidation(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := newSession(t, srv, srv.Token())
	long := strings.Repeat("x", 101)
	btn := func(b discordgo.Button) []discordgo.MessageComponent {
		return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{b}}}
	}
	tests := []struct {
		name  string
		comps []discordgo.MessageComponent
		field string
	}{
		{"custom_id too long", btn(discordgo.Button{Label: "x", CustomID: long}), "custom_id"},
		{"no custom_id", btn(discordgo.Button{Label: "x"}), "custom_id"},
		{"label too long", btn(discordgo.Button{Label: strings.Repeat("y", 81), CustomID: "a"}), "label"},
		{"link with custom_id", btn(discordgo.Button{Label: "x", Style: discordgo.LinkButton, URL: "https://x.example", CustomID: "a"}), "custom_id"},
		{"duplicate custom_id", []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "a", CustomID: "same"}, discordgo.Button{Label: "b", CustomID: "same"}}}}, "custom_id"},
		{"button at the top", []discordgo.MessageComponent{discordgo.Button{Label: "x", CustomID: "a"}}, "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dg.ChannelMessageSendComplex(chanID, &discordgo.MessageSend{Content: "x", Components: tt.comps})
			re := restError(t, err)
			if re.Message.Code != 50035 || !strings.Contains(string(re.ResponseBody), `"`+tt.field+`"`) {
				t.Errorf("error %s, want 50035 on %s", re.ResponseBody, tt.field)
			}
		})
	}
	if _, err := dg.ChannelMessageSendComplex(chanID, &discordgo.MessageSend{Content: "x", Components: postRow(strings.Repeat("z", 100), false)}); err != nil {
		t.Errorf("a 100-character custom_id: %v", err)
	}
}

// TestBotPermissions: without SEND_MESSAGES the bot's messages are
// refused with 50013, without VIEW_CHANNEL with 50001; interactions from
// the channel carry the permissions as app_permissions, and interaction
// responses still work.
func TestBotPermissions(t *testing.T) {
	t.Parallel()
	srv := newServer(t, fakediscord.Options{})
	dg := openSession(t, srv)
	got := interactions(dg)
	readOnly := fakediscord.DefaultPermissions &^ discordgo.PermissionSendMessages
	srv.SetBotPermissions(chanID, readOnly)
	_, err := dg.ChannelMessageSend(chanID, "hello")
	if re := restError(t, err); re.Response.StatusCode != 403 || re.Message.Code != 50013 || re.Message.Message != "Missing Permissions" {
		t.Errorf("send without SEND_MESSAGES: %v", err)
	}
	if _, err := dg.Channel(chanID); err != nil {
		t.Errorf("GET channel with VIEW_CHANNEL: %v", err)
	}
	if _, err := srv.SendInteraction(fakediscord.Interaction{Name: "brief", GuildID: guildID, ChannelID: chanID}); err != nil {
		t.Fatal(err)
	}
	i := receive(t, got)
	if i.AppPermissions != readOnly {
		t.Errorf("app_permissions = %d, want %d", i.AppPermissions, readOnly)
	}
	if err := dg.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "still answered"}}); err != nil {
		t.Errorf("interaction response in a channel the bot cannot post in: %v", err)
	}

	srv.SetBotPermissions(chanID, readOnly&^discordgo.PermissionViewChannel)
	if _, err := dg.Channel(chanID); restError(t, err).Message.Code != 50001 {
		t.Errorf("GET channel without VIEW_CHANNEL: %v", err)
	}
	srv.SetBotPermissions(chanID, discordgo.PermissionAdministrator)
	if _, err := dg.ChannelMessageSend(chanID, "hello"); err != nil {
		t.Errorf("send as administrator: %v", err)
	}
	srv.SetBotPermissions(chanID, 0)
	if _, err := dg.ChannelMessageSend(chanID, "hello"); err != nil {
		t.Errorf("send with the default permissions restored: %v", err)
	}
}

// TestBotPermissionsInAnotherChannel: a client that computes the bot's
// permissions in a channel from the guild's @everyone role, the bot's
// member roles and the channel's overwrites gets what SetBotPermissions
// set; a channel option's resolved channel carries the invoking member's
// permissions, as Discord's does, not the bot's.
func TestBotPermissionsInAnotherChannel(t *testing.T) {
	t.Parallel()
	const other = "1300000000000000002"
	srv := newServer(t, fakediscord.Options{})
	srv.AddChannel(fakediscord.Channel{ID: other, GuildID: guildID, Name: "other"})
	dg := openSession(t, srv)
	got := interactions(dg)
	compute := func(channelID string) int64 {
		t.Helper()
		ch, err := dg.Channel(channelID)
		if err != nil {
			t.Fatal(err)
		}
		g, err := dg.Guild(guildID)
		if err != nil {
			t.Fatal(err)
		}
		m, err := dg.GuildMember(guildID, appID)
		if err != nil {
			t.Fatal(err)
		}
		if m.User == nil || m.User.ID != appID || len(m.Roles) != 0 {
			t.Errorf("bot member %+v", m)
		}
		var perms int64
		for _, r := range g.Roles {
			if r.ID == g.ID || slices.Contains(m.Roles, r.ID) {
				perms |= r.Permissions
			}
		}
		for _, o := range ch.PermissionOverwrites {
			if o.Type == discordgo.PermissionOverwriteTypeMember && o.ID == appID {
				perms = perms&^o.Deny | o.Allow
			}
		}
		return perms
	}
	if p := compute(other); p != fakediscord.DefaultPermissions {
		t.Errorf("default permissions computed as %d, want %d", p, fakediscord.DefaultPermissions)
	}
	noEmbeds := fakediscord.DefaultPermissions&^discordgo.PermissionEmbedLinks&^discordgo.PermissionReadMessageHistory | discordgo.PermissionManageMessages
	srv.SetBotPermissions(other, noEmbeds)
	if p := compute(other); p != noEmbeds {
		t.Errorf("permissions computed as %d, want %d", p, noEmbeds)
	}
	if _, err := dg.GuildMember("1200000000000000099", appID); restError(t, err).Message.Code != 10004 {
		t.Errorf("member of an unknown guild: %v", err)
	}

	// discordgo's Channel has no permissions field: read the payload.
	const member = fakediscord.DefaultPermissions | discordgo.PermissionManageGuild
	sent, err := srv.SendInteraction(fakediscord.Interaction{Name: "subscribe", GuildID: guildID, ChannelID: chanID, Permissions: member,
		Options: []fakediscord.Option{fakediscord.ChannelOption("channel", other)}})
	if err != nil {
		t.Fatal(err)
	}
	var payload struct {
		Data struct {
			Resolved struct {
				Channels map[string]struct {
					Permissions string `json:"permissions"`
				} `json:"channels"`
			} `json:"resolved"`
		} `json:"data"`
	}
	if err := json.Unmarshal(sent.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	if got, want := payload.Data.Resolved.Channels[other].Permissions, strconv.FormatInt(member, 10); got != want {
		t.Errorf("resolved channel permissions %q, want the member's %q", got, want)
	}
	i := receive(t, got)
	if i.AppPermissions != fakediscord.DefaultPermissions {
		t.Errorf("app_permissions %d, want the bot's in the channel the command was sent from", i.AppPermissions)
	}
}

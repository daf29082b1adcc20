package discord

import (
	"context"
	"strings"
	"testing"

	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/bwmarrin/discordgo"
)

// TestSubscribeChecksBotPermissions: /subscribe refuses a channel where
// the bot cannot see, post, embed or read back, before storing anything,
// and says what to grant: from app_permissions for the channel the
// command was sent from, computed from roles and overwrites for another.
func TestSubscribeChecksBotPermissions(t *testing.T) {
	t.Parallel()
	const other = "200000000000000002"
	all := fakediscord.DefaultPermissions
	grant := "Give briefbot the View Channel, Send Messages, Embed Links and Read Message History permissions there, or pick another channel."
	for _, tt := range []struct {
		name      string
		channel   string // "" for the channel the command is sent from
		here      int64  // the bot's permissions there (0: all)
		there     int64  // and in other
		forbidden bool   // other answers 403 Missing Access
		want      string // "" for subscribed
	}{
		{name: "here, all", here: all},
		{name: "here, no read history", here: all &^ discordgo.PermissionReadMessageHistory,
			want: "I can't post briefings in <#" + testChannel + ">: briefbot is missing the Read Message History permission there. " + grant},
		{name: "here, view only", here: discordgo.PermissionViewChannel,
			want: "I can't post briefings in <#" + testChannel + ">: briefbot is missing the Send Messages, Embed Links and Read Message History permissions there. " + grant},
		{name: "here, administrator", here: discordgo.PermissionAdministrator},
		{name: "other, all", channel: other, there: all},
		{name: "other, no send nor embeds", channel: other, there: all &^ discordgo.PermissionSendMessages &^ discordgo.PermissionEmbedLinks,
			want: "I can't post briefings in <#" + other + ">: briefbot is missing the Send Messages and Embed Links permissions there. " + grant},
		{name: "other, none here but all there", channel: other, here: discordgo.PermissionViewChannel, there: all},
		{name: "other, not visible", channel: other, forbidden: true, want: "I can't see <#" + other + ">. " + grant},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, &fakeService{})
			e.srv.AddChannel(fakediscord.Channel{ID: other, GuildID: testGuild, Name: "other"})
			e.srv.SetBotPermissions(testChannel, tt.here)
			e.srv.SetBotPermissions(other, tt.there)
			if tt.forbidden {
				e.srv.MarkChannelForbidden(other)
			}
			e.start()
			opts := []fakediscord.Option{fakediscord.StringOption("topic", "korea-talks"), fakediscord.StringOption("schedule", "daily 08:00"),
				fakediscord.StringOption("timezone", "Asia/Seoul")}
			if tt.channel != "" {
				opts = append(opts, fakediscord.ChannelOption("channel", tt.channel))
			}
			content, ephemeral := e.answer(e.send(fakediscord.Interaction{Name: "subscribe", Permissions: manageAll, Options: opts}))
			subs, err := e.store.Subscriptions(context.Background(), testGuild)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if !strings.HasPrefix(content, "Subscribed <#") || len(subs) != 1 {
					t.Errorf("answer %q, %d subscriptions; want subscribed", content, len(subs))
				}
				return
			}
			if content != tt.want || !ephemeral {
				t.Errorf("answer (ephemeral %v)\n%q\nwant\n%q", ephemeral, content, tt.want)
			}
			if len(subs) != 0 {
				t.Errorf("refused, yet stored %+v", subs)
			}
		})
	}
}

func TestChannelPermissions(t *testing.T) {
	t.Parallel()
	const guild, bot, role = "1", "10", "20"
	view, send, embed := int64(discordgo.PermissionViewChannel), int64(discordgo.PermissionSendMessages), int64(discordgo.PermissionEmbedLinks)
	g := func(everyone, rolePerms int64) *discordgo.Guild {
		return &discordgo.Guild{ID: guild, OwnerID: "99", Roles: []*discordgo.Role{{ID: guild, Permissions: everyone}, {ID: role, Permissions: rolePerms}}}
	}
	ow := func(id string, typ discordgo.PermissionOverwriteType, allow, deny int64) *discordgo.PermissionOverwrite {
		return &discordgo.PermissionOverwrite{ID: id, Type: typ, Allow: allow, Deny: deny}
	}
	roleOW, memberOW := discordgo.PermissionOverwriteTypeRole, discordgo.PermissionOverwriteTypeMember
	for _, tt := range []struct {
		name   string
		guild  *discordgo.Guild
		userID string
		roles  []string
		ows    []*discordgo.PermissionOverwrite
		want   int64
	}{
		{"everyone and a role", g(view, send), bot, []string{role}, nil, view | send},
		{"a role the member lacks", g(view, send), bot, nil, nil, view},
		{"owner", g(0, 0), "99", nil, []*discordgo.PermissionOverwrite{ow("99", memberOW, 0, view)}, discordgo.PermissionAll},
		{"administrator ignores overwrites", g(discordgo.PermissionAdministrator, 0), bot, nil,
			[]*discordgo.PermissionOverwrite{ow(bot, memberOW, 0, view)}, discordgo.PermissionAll},
		{"everyone overwrite", g(view|send, 0), bot, nil, []*discordgo.PermissionOverwrite{ow(guild, roleOW, embed, send)}, view | embed},
		{"role overwrite beats everyone's", g(view|send, 0), bot, []string{role},
			[]*discordgo.PermissionOverwrite{ow(guild, roleOW, 0, send), ow(role, roleOW, send, 0)}, view | send},
		{"member overwrite beats the role's", g(view, 0), bot, []string{role},
			[]*discordgo.PermissionOverwrite{ow(role, roleOW, send|embed, 0), ow(bot, memberOW, 0, embed)}, view | send},
		{"another member's overwrite", g(view, 0), bot, nil, []*discordgo.PermissionOverwrite{ow("11", memberOW, 0, view)}, view},
	} {
		got := channelPermissions(tt.guild, &discordgo.Channel{ID: "5", PermissionOverwrites: tt.ows}, tt.userID, tt.roles)
		if got != tt.want {
			t.Errorf("%s: %b, want %b", tt.name, got, tt.want)
		}
	}
}

package discord

import (
	"context"
	"fmt"
	"slices"

	"github.com/bwmarrin/discordgo"
)

// subscribePerms are the permissions briefbot needs in a subscribed
// channel, with their names in Discord's settings: to see it, post
// briefings (Send Messages in Threads will do in a thread), with embeds,
// and read the channel back to find parts posted but not recorded
// (findParts), which is why the invite asks for them all.
var subscribePerms = []struct {
	bits int64 // any of them will do
	name string
}{
	{discordgo.PermissionViewChannel, "View Channel"},
	{discordgo.PermissionSendMessages | discordgo.PermissionSendMessagesInThreads, "Send Messages"},
	{discordgo.PermissionEmbedLinks, "Embed Links"},
	{discordgo.PermissionReadMessageHistory, "Read Message History"},
}

// subscribePermsText names subscribePerms for replies.
const subscribePermsText = "View Channel, Send Messages, Embed Links and Read Message History"

// missingSubscribePerms names the subscribePerms that perms lacks.
func missingSubscribePerms(perms int64) []string {
	if perms&discordgo.PermissionAdministrator != 0 {
		return nil
	}
	var missing []string
	for _, p := range subscribePerms {
		if perms&p.bits == 0 {
			missing = append(missing, p.name)
		}
	}
	return missing
}

// checkSubscribePerms refuses, with a reply that says what to grant, a
// channel where the bot has not all of subscribePerms.
func checkSubscribePerms(channelID string, perms int64) error {
	missing := missingSubscribePerms(perms)
	switch {
	case len(missing) == 0:
		return nil
	case missing[0] == "View Channel":
		return userErrorf("I can't see <#%s>. Give briefbot the %s permissions there, or pick another channel.", channelID, subscribePermsText)
	}
	return userErrorf("I can't post briefings in <#%s>: briefbot is missing the %s there. Give briefbot the %s permissions there, or pick another channel.",
		channelID, permList(missing), subscribePermsText)
}

// botPermissions returns the bot's permissions in a channel of the
// interaction's guild: app_permissions when it is the channel the
// command was sent from, else computed as Discord does from the guild's
// roles, the bot's roles and the channel's overwrites. (A channel
// option's resolved channel carries the member's permissions there, not
// the bot's.)
func (b *Bot) botPermissions(ctx context.Context, c *call, ch *discordgo.Channel) (int64, error) {
	if ch.ID == c.i.ChannelID && c.i.AppPermissions != 0 {
		return c.i.AppPermissions, nil
	}
	_, me, err := b.ensureIDs(ctx)
	if err != nil {
		return 0, err
	}
	g, err := b.session.Guild(ch.GuildID, discordgo.WithContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("get guild %s: %w", ch.GuildID, err)
	}
	m, err := b.session.GuildMember(ch.GuildID, me, discordgo.WithContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("get bot member of guild %s: %w", ch.GuildID, err)
	}
	return channelPermissions(g, ch, me, m.Roles), nil
}

// channelPermissions computes a member's permissions in a channel:
// the @everyone role and the member's roles; everything for the owner
// or an administrator; then the channel's @everyone overwrite, its role
// overwrites together, and the member's own overwrite.
func channelPermissions(g *discordgo.Guild, ch *discordgo.Channel, userID string, roles []string) int64 {
	if userID == g.OwnerID {
		return discordgo.PermissionAll
	}
	var perms int64
	for _, r := range g.Roles {
		if r.ID == g.ID || slices.Contains(roles, r.ID) {
			perms |= r.Permissions
		}
	}
	if perms&discordgo.PermissionAdministrator != 0 {
		return discordgo.PermissionAll
	}
	for _, o := range ch.PermissionOverwrites {
		if o.Type == discordgo.PermissionOverwriteTypeRole && o.ID == g.ID {
			perms = perms&^o.Deny | o.Allow
		}
	}
	var allow, deny int64
	for _, o := range ch.PermissionOverwrites {
		if o.Type == discordgo.PermissionOverwriteTypeRole && o.ID != g.ID && slices.Contains(roles, o.ID) {
			allow, deny = allow|o.Allow, deny|o.Deny
		}
	}
	perms = perms&^deny | allow
	for _, o := range ch.PermissionOverwrites {
		if o.Type == discordgo.PermissionOverwriteTypeMember && o.ID == userID {
			perms = perms&^o.Deny | o.Allow
		}
	}
	return perms
}

package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/bwmarrin/discordgo"
)

var (
	permManageChannels = int64(discordgo.PermissionManageChannels)
	permManageServer   = int64(discordgo.PermissionManageGuild)
)

// commands returns the slash command definitions. Names and options are
// the user interface: keep them.
func commands() []*discordgo.ApplicationCommand {
	str := discordgo.ApplicationCommandOptionString
	sub := discordgo.ApplicationCommandOptionSubCommand
	noDM := false
	return []*discordgo.ApplicationCommand{
		{
			Name: "brief", Description: "A briefing on a topic or a query, now", DMPermission: &noDM,
			Options: []*discordgo.ApplicationCommandOption{
				{Type: str, Name: "topic", Description: "A topic of this server", Autocomplete: true},
				{Type: str, Name: "query", Description: `Words, "phrases", OR, -exclusions`, MaxLength: 500},
				{Type: str, Name: "since", Description: "The window (default 24h)", Choices: []*discordgo.ApplicationCommandOptionChoice{
					{Name: "6 hours", Value: "6h"}, {Name: "24 hours", Value: "24h"}, {Name: "3 days", Value: "3d"}, {Name: "7 days", Value: "7d"},
				}},
				{Type: str, Name: "language", Description: "Write the briefing in this language (with a language model)", MaxLength: 40},
				{Type: discordgo.ApplicationCommandOptionBoolean, Name: "preview", Description: "Show only to you first, with a button to post it"},
			},
		},
		{
			Name: "subscribe", Description: "Post briefings on a topic to a channel on a schedule",
			DefaultMemberPermissions: &permManageChannels, DMPermission: &noDM,
			Options: []*discordgo.ApplicationCommandOption{
				{Type: str, Name: "topic", Description: "The topic", Required: true, Autocomplete: true},
				{Type: str, Name: "schedule", Description: `"daily 08:00", "weekdays 07:30", "every 6h" or cron`, Required: true, Autocomplete: true, MaxLength: 100},
				{Type: str, Name: "timezone", Description: "IANA time zone, e.g. Asia/Seoul", Required: true, Autocomplete: true, MaxLength: 64},
				{Type: discordgo.ApplicationCommandOptionChannel, Name: "channel", Description: "Where to post (default: this channel)",
					ChannelTypes: []discordgo.ChannelType{discordgo.ChannelTypeGuildText, discordgo.ChannelTypeGuildNews}},
				{Type: str, Name: "language", Description: "Write briefings in this language (with a language model)", MaxLength: 40},
				{Type: str, Name: "catchup", Description: "A briefing missed while briefbot was down: post it late (default) or skip it", Choices: []*discordgo.ApplicationCommandOptionChoice{
					{Name: "post late, once", Value: digest.CatchUpLate}, {Name: "skip", Value: digest.CatchUpSkip},
				}},
				{Type: str, Name: "nothing_new", Description: "When nothing new matched: stay silent (default) or say so in one line", Choices: []*discordgo.ApplicationCommandOptionChoice{
					{Name: "stay silent", Value: digest.NothingNewSkip}, {Name: "post a one-line note", Value: digest.NothingNewPost},
				}},
			},
		},
		{
			Name: "unsubscribe", Description: "Stop a subscription",
			DefaultMemberPermissions: &permManageChannels, DMPermission: &noDM,
			Options: []*discordgo.ApplicationCommandOption{
				{Type: str, Name: "subscription", Description: "The subscription", Required: true, Autocomplete: true},
			},
		},
		{Name: "subscriptions", Description: "This server's subscriptions and their next posts", DMPermission: &noDM},
		{
			Name: "topics", Description: "Topics: named queries", DMPermission: &noDM,
			Options: []*discordgo.ApplicationCommandOption{
				{Type: sub, Name: "list", Description: "List the topics"},
				{Type: sub, Name: "add", Description: "Add a topic (Manage Server)", Options: []*discordgo.ApplicationCommandOption{
					{Type: str, Name: "name", Description: "Short name, e.g. korea-talks", Required: true, MaxLength: 64},
					{Type: str, Name: "query", Description: `e.g. "north korea" OR pyongyang -football`, Required: true, MaxLength: 500},
				}},
				{Type: sub, Name: "remove", Description: "Remove a topic (Manage Server)", Options: []*discordgo.ApplicationCommandOption{
					{Type: str, Name: "name", Description: "The topic", Required: true, Autocomplete: true},
				}},
			},
		},
		{
			Name: "sources", Description: "News sources (feeds)", DMPermission: &noDM,
			Options: []*discordgo.ApplicationCommandOption{
				{Type: sub, Name: "list", Description: "List the sources"},
				{Type: sub, Name: "add", Description: "Add an RSS, Atom or JSON feed (Manage Server)", Options: []*discordgo.ApplicationCommandOption{
					{Type: str, Name: "url", Description: "The feed's URL", Required: true, MaxLength: 2000},
					{Type: str, Name: "name", Description: "Short name (default: from the feed)", MaxLength: 64},
				}},
				{Type: sub, Name: "remove", Description: "Remove a source of this server (Manage Server)", Options: []*discordgo.ApplicationCommandOption{
					{Type: str, Name: "name", Description: "The source", Required: true, Autocomplete: true},
				}},
			},
		},
	}
}

// registerCommands bulk-overwrites the commands when they differ from the
// registered ones, and says what it did, for the line Run logs once
// connected. Only shard 0 registers them, so that shards and replicas do
// not overwrite each other's.
func (b *Bot) registerCommands(ctx context.Context) (string, error) {
	if b.cfg.ShardID != 0 {
		return "slash commands left to shard 0", nil
	}
	appID, _, err := b.ensureIDs(ctx)
	if err != nil {
		return "", fmt.Errorf("discord: register commands: %w", err)
	}
	scope := "globally"
	if b.cfg.GuildID != "" {
		scope = "in guild " + b.cfg.GuildID
	}
	want := commands()
	have, err := b.session.ApplicationCommands(appID, b.cfg.GuildID, discordgo.WithContext(ctx))
	if err == nil && sameCommands(have, want) {
		return fmt.Sprintf("%d slash commands registered (%s, unchanged)", len(want), scope), nil
	}
	if _, err := b.session.ApplicationCommandBulkOverwrite(appID, b.cfg.GuildID, want, discordgo.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("discord: register commands: %w", err)
	}
	return fmt.Sprintf("%d slash commands registered (%s)", len(want), scope), nil
}

// sameCommands compares the definitions that matter (names,
// descriptions, permissions, options), ignoring what Discord adds or
// fills in (IDs, versions, defaults).
func sameCommands(have, want []*discordgo.ApplicationCommand) bool {
	if len(have) != len(want) {
		return false
	}
	key := func(cs []*discordgo.ApplicationCommand) map[string]string {
		m := make(map[string]string, len(cs))
		for _, c := range cs {
			perms := int64(-1)
			if c.DefaultMemberPermissions != nil {
				perms = *c.DefaultMemberPermissions
			}
			m[c.Name] = fmt.Sprintf("%s|%d|%s", c.Description, perms, optionsKey(c.Options))
		}
		return m
	}
	return reflect.DeepEqual(key(have), key(want))
}

func optionsKey(opts []*discordgo.ApplicationCommandOption) string {
	var sb strings.Builder
	for _, o := range opts {
		fmt.Fprintf(&sb, "(%d %s %q %v %v %v %d [", o.Type, o.Name, o.Description, o.Required, o.Autocomplete, o.ChannelTypes, o.MaxLength)
		for _, c := range o.Choices {
			fmt.Fprintf(&sb, "%s=%v ", c.Name, c.Value)
		}
		sb.WriteString("] " + optionsKey(o.Options) + ")")
	}
	return sb.String()
}

// UserError is an error meant for the user: the reply says Msg as it is.
// Service implementations return it for problems the user can fix (a
// feed that is not a feed, an address the bot may not reach); other
// errors are logged and answered with a generic apology.
type UserError struct{ Msg string }

func (e *UserError) Error() string { return e.Msg }

func userErrorf(format string, args ...any) error { return &UserError{fmt.Sprintf(format, args...)} }

// call is one interaction being answered.
type call struct {
	i        *discordgo.Interaction
	deferred bool
	answered bool
	// private makes the deferral, and so the answer that edits it,
	// ephemeral (a /brief preview).
	private bool
	// initial, when set, takes the interaction's first response instead
	// of the callback endpoint: in HTTP interactions mode it is written
	// as the body of the answer to Discord's POST. It returns
	// errRequestOver when that answer has gone out without it.
	initial func(*discordgo.InteractionResponse) error
}

func (c *call) user() string {
	if c.i.Member != nil && c.i.Member.User != nil {
		return c.i.Member.User.ID
	}
	if c.i.User != nil {
		return c.i.User.ID
	}
	return ""
}

func (c *call) perms() int64 {
	if c.i.Member != nil {
		return c.i.Member.Permissions
	}
	return 0
}

// options flattens the command's options (and its subcommand's) by name.
func (c *call) options() (subcommand string, opts map[string]*discordgo.ApplicationCommandInteractionDataOption) {
	opts = make(map[string]*discordgo.ApplicationCommandInteractionDataOption)
	list := c.i.ApplicationCommandData().Options
	if len(list) == 1 && list[0].Type == discordgo.ApplicationCommandOptionSubCommand {
		subcommand, list = list[0].Name, list[0].Options
	}
	for _, o := range list {
		opts[o.Name] = o
	}
	return subcommand, opts
}

func optString(opts map[string]*discordgo.ApplicationCommandInteractionDataOption, name string) string {
	if o, ok := opts[name]; ok {
		if s, ok := o.Value.(string); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// optBool returns a boolean option's value, false when it is absent.
func optBool(opts map[string]*discordgo.ApplicationCommandInteractionDataOption, name string) bool {
	if o, ok := opts[name]; ok {
		if v, ok := o.Value.(bool); ok {
			return v
		}
	}
	return false
}

type handler func(ctx context.Context, c *call) error

func (b *Bot) handlers() map[string]handler {
	return map[string]handler{
		"brief":         b.brief,
		"subscribe":     b.subscribe,
		"unsubscribe":   b.unsubscribe,
		"subscriptions": b.subscriptions,
		"topics":        b.topics,
		"sources":       b.sources,
	}
}

// handle answers one interaction, received over the gateway or over
// HTTP. Panics are recovered and answered.
func (b *Bot) handle(ctx context.Context, c *call) {
	i := c.i
	if !b.seen.add(i.ID, b.cfg.Now()) {
		b.log.Info("duplicate interaction ignored", "interaction", i.ID)
		return
	}
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("interaction handler panicked", "interaction", i.ID, "error", r)
			b.replyError(ctx, c, fmt.Errorf("internal error: %v", r))
		}
	}()
	switch i.Type {
	case discordgo.InteractionApplicationCommandAutocomplete:
		b.autocomplete(ctx, c)
	case discordgo.InteractionApplicationCommand:
		name := i.ApplicationCommandData().Name
		h, ok := b.handlers()[name]
		if !ok {
			b.replyError(ctx, c, userErrorf("Unknown command /%s: the bot may be restarting with new commands; try again in a minute.", name))
			return
		}
		if i.GuildID == "" {
			b.replyError(ctx, c, userErrorf("briefbot works in servers, not in direct messages."))
			return
		}
		if err := h(ctx, c); err != nil {
			b.replyError(ctx, c, err)
		}
	case discordgo.InteractionMessageComponent:
		b.component(ctx, c)
	}
}

// replyError turns an error into an ephemeral reply: user errors as they
// are, domain errors explained, the rest logged and summarized.
func (b *Bot) replyError(ctx context.Context, c *call, err error) {
	var ue *UserError
	var qe *digest.QueryError
	var msg string
	switch {
	case errors.As(err, &ue):
		msg = ue.Msg
	case errors.As(err, &qe):
		msg = "That query has a problem: " + qe.Error() + `. Write words, "exact phrases", OR between alternatives, -word to exclude, and parentheses to group.`
	case errors.Is(err, digest.ErrNotFound):
		msg = "Not found: " + err.Error()
	case errors.Is(err, digest.ErrExists):
		msg = "That already exists: " + err.Error()
	case errors.Is(err, context.Canceled):
		msg = "The bot is shutting down; try again in a minute."
	default:
		b.log.Error("interaction failed", "interaction", c.i.ID, "channel_id", c.i.ChannelID, "error", err)
		msg = "Something went wrong on our side; try again in a few minutes. If it keeps happening, tell the bot's operator."
	}
	b.ephemeral(ctx, c, msg)
}

// noMentions is the allowed_mentions of every message: parse nothing.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// ephemeral answers with a message only the user sees. After a deferral,
// the deferred message is deleted and the answer sent as an ephemeral
// follow-up.
func (b *Bot) ephemeral(ctx context.Context, c *call, msg string) {
	msg = truncateRunes(msg, 2000)
	opt := discordgo.WithContext(ctx)
	var err error
	switch {
	case !c.deferred && !c.answered:
		err = b.callback(ctx, c, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: msg, Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions()},
		})
	default:
		if c.deferred && !c.answered {
			if err := b.session.InteractionResponseDelete(c.i, opt); err != nil {
				b.log.Warn("delete deferred response", "interaction", c.i.ID, "error", err)
			}
		}
		_, err = b.session.FollowupMessageCreate(c.i, true, &discordgo.WebhookParams{Content: msg, Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions()}, opt)
	}
	c.answered = true
	if err != nil {
		b.log.Error("reply to interaction", "interaction", c.i.ID, "error", err)
	}
}

// respond answers publicly, at once.
func (b *Bot) respond(ctx context.Context, c *call, msg string, ephemeral bool) error {
	data := &discordgo.InteractionResponseData{Content: truncateRunes(msg, 2000), AllowedMentions: noMentions()}
	if ephemeral {
		data.Flags = discordgo.MessageFlagsEphemeral
	}
	err := b.callback(ctx, c, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: data})
	c.answered = err == nil
	return err
}

// deferReply acknowledges the interaction within Discord's 3 seconds; the
// answer follows by editing the deferred message, which only the user
// sees when c.private is set.
func (b *Bot) deferReply(ctx context.Context, c *call) error {
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	if c.private {
		resp.Data = &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}
	}
	err := b.callback(ctx, c, resp)
	if err != nil {
		return fmt.Errorf("defer: %w", err)
	}
	c.deferred = true
	return nil
}

// editResponse edits an interaction's original response (a deferred
// reply). discordgo's InteractionResponseEdit files the edits of every
// interaction under one rate limit bucket, "webhooks//"
// (bwmarrin/discordgo#1384), and holds a bucket for the whole of a
// request, so under a burst of /brief each answer waited for all the
// others, one round trip to Discord each. This sends the edit under the
// interaction's own webhook bucket, the one its follow-ups use and
// Discord counts it in (webhook ID and token are the route's major
// parameter).
func (b *Bot) editResponse(ctx context.Context, i *discordgo.Interaction, edit *discordgo.WebhookEdit) error {
	endpoint := discordgo.EndpointInteractionResponseActions(i.AppID, i.Token)
	_, err := b.session.RequestWithBucketID(http.MethodPatch, endpoint, edit, discordgo.EndpointWebhookToken(i.AppID, i.Token), discordgo.WithContext(ctx))
	return err
}

// callback sends the interaction's initial response: as the answer to
// Discord's POST in HTTP interactions mode while that is still open,
// else to the callback endpoint.
func (b *Bot) callback(ctx context.Context, c *call, resp *discordgo.InteractionResponse) error {
	if send := c.initial; send != nil && (resp.Data == nil || len(resp.Data.Files) == 0) {
		c.initial = nil
		if err := send(resp); !errors.Is(err, errRequestOver) {
			return err
		}
	}
	c.initial = nil
	return b.session.InteractionRespond(c.i, resp, discordgo.WithContext(ctx))
}

func requirePerm(c *call, perm int64, what string) error {
	if c.perms()&(perm|discordgo.PermissionAdministrator) == 0 {
		return userErrorf("You need the %s permission to %s.", permName(perm), what)
	}
	return nil
}

func permName(p int64) string {
	if p == permManageChannels {
		return "Manage Channels"
	}
	return "Manage Server"
}

// parseSince accepts the /brief since choices and Go durations.
func parseSince(s string) (time.Duration, error) {
	if s == "" {
		return 24 * time.Hour, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 1 && n <= 30 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d >= time.Hour && d <= 30*24*time.Hour {
		return d, nil
	}
	return 0, userErrorf("Bad since %q: use 6h, 24h, 3d or 7d.", s)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// visible reports whether a guild may use a topic or source: global ones
// and its own.
func visible(guildID, ownerGuild string) bool { return ownerGuild == "" || ownerGuild == guildID }

package discord

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/bwmarrin/discordgo"
)

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// checkBeforeDefer bounds the store lookup /brief makes before it defers,
// so that a slow store (a burst of briefings on two cores, a PostgreSQL
// failover) never costs the deferral Discord wants within 3 s.
const checkBeforeDefer = time.Second

// brief answers /brief: validate at once (ephemeral errors), defer, show
// progress, then edit in the briefing and send any further parts. With
// preview, all of it is ephemeral and the briefing comes with a button
// that posts it to the channel (see showPreview).
func (b *Bot) brief(ctx context.Context, c *call) error {
	_, opts := c.options()
	c.private = optBool(opts, "preview")
	req := BriefRequest{GuildID: c.i.GuildID, Topic: optString(opts, "topic"), Query: optString(opts, "query"), Language: optString(opts, "language")}
	since, err := parseSince(optString(opts, "since"))
	if err != nil {
		return err
	}
	req.Since = since
	switch {
	case req.Topic == "" && req.Query == "":
		return userErrorf("Give a topic (see /topics list) or a query, e.g. query: \"north korea\" OR pyongyang.")
	case req.Topic != "" && req.Query != "":
		return userErrorf("Give a topic or a query, not both.")
	case req.Query != "":
		if _, err := digest.ParseQuery(req.Query); err != nil {
			return err
		}
	default:
		// A wrong name gets an ephemeral reply at once; but a store too
		// slow to tell within checkBeforeDefer gets the deferral first.
		qctx, cancel := context.WithTimeout(ctx, checkBeforeDefer)
		t, err := b.store.Topic(qctx, req.Topic)
		slow := errors.Is(qctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		if slow {
			if err := b.deferReply(ctx, c); err != nil {
				return err
			}
			t, err = b.store.Topic(ctx, req.Topic)
		}
		if err != nil || !visible(c.i.GuildID, t.GuildID) {
			return userErrorf("There is no topic %q here. See /topics list, or add it with /topics add.", req.Topic)
		}
	}
	if !c.deferred {
		if err := b.deferReply(ctx, c); err != nil {
			return err
		}
	}

	var mu sync.Mutex
	last := time.Time{}
	progress := func(status string) {
		mu.Lock()
		defer mu.Unlock()
		if c.answered || b.cfg.Now().Sub(last) < time.Second {
			return
		}
		last = b.cfg.Now()
		content := truncateRunes(status, 2000)
		if err := b.editResponse(ctx, c.i, &discordgo.WebhookEdit{Content: &content, AllowedMentions: noMentions()}); err != nil {
			b.log.Warn("progress edit", "interaction", c.i.ID, "error", err)
		}
	}
	br, err := b.buildBriefing(ctx, req, progress)
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		return err
	}
	msgs := Render(br, b.cfg.Now())
	if c.private {
		return b.showPreview(ctx, c, br, msgs)
	}
	first := msgs[0]
	content, embeds := first.Content, first.Embeds
	if err := b.editResponse(ctx, c.i, &discordgo.WebhookEdit{Content: &content, Embeds: &embeds, AllowedMentions: noMentions()}); err != nil {
		return fmt.Errorf("edit briefing in: %w", err)
	}
	c.answered = true
	for _, m := range msgs[1:] {
		if _, err := b.session.FollowupMessageCreate(c.i, true, &discordgo.WebhookParams{Content: m.Content, Embeds: m.Embeds, AllowedMentions: noMentions()}, discordgo.WithContext(ctx)); err != nil {
			b.log.Error("briefing follow-up", "interaction", c.i.ID, "channel_id", c.i.ChannelID, "error", err)
			return nil // the first part is posted; an error reply now would confuse
		}
	}
	return nil
}

// buildBriefing asks the service for a briefing once fewer than
// Config.MaxBriefs are being built; it waits its turn (in practice first
// come, first served), the interaction deferred meanwhile.
func (b *Bot) buildBriefing(ctx context.Context, req BriefRequest, progress func(string)) (digest.Briefing, error) {
	select {
	case b.briefs <- struct{}{}:
	case <-ctx.Done():
		return digest.Briefing{}, ctx.Err()
	}
	defer func() { <-b.briefs }()
	return b.service.Brief(ctx, req, progress)
}

// subscribe answers /subscribe.
func (b *Bot) subscribe(ctx context.Context, c *call) error {
	if err := requirePerm(c, permManageChannels, "subscribe channels"); err != nil {
		return err
	}
	_, opts := c.options()
	topicName, spec, zone := optString(opts, "topic"), optString(opts, "schedule"), optString(opts, "timezone")
	channelID := c.i.ChannelID
	if o, ok := opts["channel"]; ok {
		if id, ok := o.Value.(string); ok && id != "" {
			// The member's permissions are those of the channel the command
			// was typed in, and Manage Channels can be granted per channel;
			// subscribing another channel takes Manage Server, which
			// cannot.
			if id != c.i.ChannelID && c.perms()&(permManageServer|discordgo.PermissionAdministrator) == 0 {
				return userErrorf("Subscribing another channel needs the Manage Server permission; run /subscribe in <#%s> itself instead.", id)
			}
			channelID = id
		}
	}
	t, err := b.store.Topic(ctx, topicName)
	if err != nil || !visible(c.i.GuildID, t.GuildID) {
		return userErrorf("There is no topic %q here. See /topics list, or add it with /topics add.", topicName)
	}
	catchUp := cmp.Or(optString(opts, "catchup"), digest.CatchUpLate)
	if catchUp != digest.CatchUpLate && catchUp != digest.CatchUpSkip {
		return userErrorf("catchup must be %q or %q.", digest.CatchUpLate, digest.CatchUpSkip)
	}
	nothingNew := cmp.Or(optString(opts, "nothing_new"), digest.NothingNewSkip)
	if nothingNew != digest.NothingNewSkip && nothingNew != digest.NothingNewPost {
		return userErrorf("nothing_new must be %q or %q.", digest.NothingNewSkip, digest.NothingNewPost)
	}
	now := b.cfg.Now()
	next, describe, err := b.service.NextSlot(spec, zone, now)
	if err != nil {
		return userErrorf("%s", err.Error())
	}
	// Discord says what the bot may do in the channel the command was
	// sent from: refuse at once, before the first slot fails.
	if channelID == c.i.ChannelID && c.i.AppPermissions != 0 {
		if err := checkSubscribePerms(channelID, c.i.AppPermissions); err != nil {
			return err
		}
	}
	subs, err := b.store.Subscriptions(ctx, c.i.GuildID)
	if err != nil {
		return err
	}
	// The same channel, topic and schedule again: a paused subscription
	// in the same time zone is resumed, once the checks below pass.
	var paused *digest.Subscription
	if i := slices.IndexFunc(subs, func(s digest.Subscription) bool {
		return s.ChannelID == channelID && s.TopicID == t.ID && s.Schedule == spec
	}); i >= 0 {
		if !subs[i].Paused || subs[i].TimeZone != zone {
			return alreadySubscribed(subs[i], zone)
		}
		paused = &subs[i]
	}
	if paused == nil && len(subs) >= b.cfg.MaxSubscriptions {
		return userErrorf("This server has %d subscriptions, the most allowed. Remove one with /unsubscribe first.", len(subs))
	}
	if err := b.deferReply(ctx, c); err != nil {
		return err
	}
	ch, err := b.session.Channel(channelID, discordgo.WithContext(ctx))
	if err != nil {
		switch restStatus(err) {
		case 403, 404:
			return userErrorf("I can't see <#%s>. Give briefbot the %s permissions there, or pick another channel.", channelID, subscribePermsText)
		}
		return fmt.Errorf("check channel %s: %w", channelID, err)
	}
	if ch.GuildID != "" && ch.GuildID != c.i.GuildID {
		return userErrorf("<#%s> is not a channel of this server.", channelID)
	}
	if channelID != c.i.ChannelID || c.i.AppPermissions == 0 {
		// Another channel, whose bot permissions the interaction does
		// not carry, or app_permissions missing. Not knowing them does
		// not stop the subscription; a slot that cannot post pauses it.
		if perms, err := b.botPermissions(ctx, c, ch); err != nil {
			b.log.Warn("check the bot's permissions", "channel_id", channelID, "error", err)
		} else if err := checkSubscribePerms(channelID, perms); err != nil {
			return err
		}
	}
	if paused != nil {
		return b.resume(ctx, c, *paused, opts, next, describe)
	}
	sub, err := b.store.AddSubscription(ctx, digest.Subscription{
		GuildID: c.i.GuildID, ChannelID: channelID, TopicID: t.ID, Topic: t.Name,
		Schedule: spec, TimeZone: zone, Language: optString(opts, "language"), CatchUp: catchUp, NothingNew: nothingNew,
		NextSlot: next, CreatedBy: c.user(), CreatedAt: now,
	})
	if errors.Is(err, digest.ErrExists) {
		return userErrorf("<#%s> is already subscribed to **%s** on that schedule. See /subscriptions.", channelID, escape(t.Name))
	} else if err != nil {
		return err
	}
	msg := fmt.Sprintf("Subscribed <#%s> to **%s**, %s (subscription #%d). Next briefing <t:%d:F> (<t:%d:R>).",
		channelID, escape(t.Name), escape(describe), sub.ID, next.Unix(), next.Unix())
	if observesDST(zone, now) {
		msg += " On daylight-saving days, a time that doesn't exist posts at the first valid time after it, and a time that occurs twice posts once."
	}
	return b.edit(ctx, c, msg)
}

// alreadySubscribed refuses a /subscribe whose channel, topic and
// schedule an existing subscription has (the store's unique key, which
// leaves out the time zone), naming it and saying how to change it.
func alreadySubscribed(s digest.Subscription, zone string) error {
	msg := fmt.Sprintf("<#%s> is already subscribed to **%s**, %s, in %s: subscription #%d", s.ChannelID, escape(s.Topic), escape(s.Schedule), escape(s.TimeZone), s.ID)
	switch {
	case s.TimeZone == zone:
		return userErrorf("%s. See /subscriptions.", msg)
	case s.Paused:
		return userErrorf("%s, paused. A channel gets a topic on a schedule once, whatever the time zone: to resume it as it is, run /subscribe with timezone %s; to have it in %s instead, /unsubscribe #%d, then subscribe again.",
			msg, escape(s.TimeZone), escape(zone), s.ID)
	}
	return userErrorf("%s. A channel gets a topic on a schedule once, whatever the time zone: to have it in %s instead, /unsubscribe #%d, then subscribe again.", msg, escape(zone), s.ID)
}

// resume clears a paused subscription's pause and moves its next slot to
// next, the first after now, and says so. The store keeps the options it
// was made with (language, catchup, nothing_new); the reply says which
// of those given differ and how to change them.
func (b *Bot) resume(ctx context.Context, c *call, sub digest.Subscription, opts map[string]*discordgo.ApplicationCommandInteractionDataOption, next time.Time, describe string) error {
	sub.Paused, sub.PauseReason, sub.NextSlot = false, "", next
	if err := b.store.UpdateSubscription(ctx, sub); err != nil {
		return fmt.Errorf("resume subscription %d: %w", sub.ID, err)
	}
	b.log.Info("subscription resumed", "subscription", sub.ID, "channel_id", sub.ChannelID, "topic", sub.Topic)
	msg := fmt.Sprintf("Resumed subscription #%d: <#%s> gets **%s**, %s. Next briefing <t:%d:F> (<t:%d:R>).",
		sub.ID, sub.ChannelID, escape(sub.Topic), escape(describe), next.Unix(), next.Unix())
	var kept []string
	if _, ok := opts["language"]; ok && optString(opts, "language") != sub.Language {
		if sub.Language == "" {
			kept = append(kept, "default language")
		} else {
			kept = append(kept, fmt.Sprintf("language %q", sub.Language))
		}
	}
	if _, ok := opts["catchup"]; ok && optString(opts, "catchup") != sub.CatchUp {
		kept = append(kept, "catchup "+sub.CatchUp)
	}
	if _, ok := opts["nothing_new"]; ok && optString(opts, "nothing_new") != cmp.Or(sub.NothingNew, digest.NothingNewSkip) {
		kept = append(kept, "nothing_new "+cmp.Or(sub.NothingNew, digest.NothingNewSkip))
	}
	if len(kept) > 0 {
		msg += fmt.Sprintf(" It keeps its %s; to change that, /unsubscribe #%d and subscribe again.", escape(strings.Join(kept, ", ")), sub.ID)
	}
	if observesDST(sub.TimeZone, b.cfg.Now()) {
		msg += " On daylight-saving days, a time that doesn't exist posts at the first valid time after it, and a time that occurs twice posts once."
	}
	return b.edit(ctx, c, msg)
}

// unsubscribe answers /unsubscribe.
func (b *Bot) unsubscribe(ctx context.Context, c *call) error {
	if err := requirePerm(c, permManageChannels, "unsubscribe channels"); err != nil {
		return err
	}
	_, opts := c.options()
	raw := strings.TrimPrefix(optString(opts, "subscription"), "#")
	id, err := strconv.ParseInt(strings.Fields(raw + " x")[0], 10, 64)
	if err != nil {
		return userErrorf("Pick a subscription from the list (start typing), or give its number from /subscriptions.")
	}
	if err := b.store.RemoveSubscription(ctx, c.i.GuildID, id); errors.Is(err, digest.ErrNotFound) {
		return userErrorf("This server has no subscription #%d. See /subscriptions.", id)
	} else if err != nil {
		return err
	}
	return b.respond(ctx, c, fmt.Sprintf("Removed subscription #%d.", id), false)
}

// subscriptions answers /subscriptions, for everyone, ephemerally.
func (b *Bot) subscriptions(ctx context.Context, c *call) error {
	subs, err := b.store.Subscriptions(ctx, c.i.GuildID)
	if err != nil {
		return err
	}
	if len(subs) == 0 {
		return b.respond(ctx, c, "No subscriptions yet. Someone with Manage Channels can add one with /subscribe.", true)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "**%d subscriptions**\n", len(subs))
	for _, s := range subs {
		fmt.Fprintf(&sb, "#%d <#%s> **%s**: %s (%s)", s.ID, s.ChannelID, escape(s.Topic), escape(s.Schedule), escape(s.TimeZone))
		if s.CatchUp == digest.CatchUpSkip {
			sb.WriteString(" · missed briefings skipped")
		}
		if s.NothingNew == digest.NothingNewPost {
			sb.WriteString(" · says when nothing is new")
		}
		if s.Paused {
			fmt.Fprintf(&sb, " · paused: %s", escapeKeepChannels(s.PauseReason))
		} else {
			fmt.Fprintf(&sb, " · next <t:%d:R>", s.NextSlot.Unix())
		}
		sb.WriteByte('\n')
	}
	return b.respond(ctx, c, sb.String(), true)
}

// topics answers /topics list|add|remove.
func (b *Bot) topics(ctx context.Context, c *call) error {
	subcmd, opts := c.options()
	switch subcmd {
	case "add":
		if err := requirePerm(c, permManageServer, "add topics"); err != nil {
			return err
		}
		name, query := strings.ToLower(optString(opts, "name")), optString(opts, "query")
		if !namePattern.MatchString(name) {
			return userErrorf("Bad topic name %q: use 1-64 lower-case letters, digits, '.', '_' or '-'.", name)
		}
		if _, err := digest.ParseQuery(query); err != nil {
			return err
		}
		all, err := b.store.Topics(ctx)
		if err != nil {
			return err
		}
		own := 0
		for _, t := range all {
			if t.GuildID == c.i.GuildID {
				own++
			}
		}
		if own >= b.cfg.MaxTopics {
			return userErrorf("This server has %d topics, the most allowed. Remove one with /topics remove first.", own)
		}
		if err := b.deferReply(ctx, c); err != nil {
			return err
		}
		n, err := b.service.AddTopic(ctx, digest.Topic{Name: name, Query: query, Origin: digest.OriginChat, GuildID: c.i.GuildID, CreatedAt: b.cfg.Now()})
		if errors.Is(err, digest.ErrExists) {
			return userErrorf("A topic named %q already exists. Pick another name.", name)
		} else if err != nil {
			return err
		}
		return b.edit(ctx, c, fmt.Sprintf("Added topic **%s** (`%s`): %d stored articles of the last 30 days match it.", escape(name), strings.ReplaceAll(query, "`", "'"), n))
	case "remove":
		if err := requirePerm(c, permManageServer, "remove topics"); err != nil {
			return err
		}
		name := optString(opts, "name")
		t, err := b.store.Topic(ctx, name)
		if err != nil || !visible(c.i.GuildID, t.GuildID) {
			return userErrorf("There is no topic %q here. See /topics list.", name)
		}
		if t.GuildID != c.i.GuildID {
			return userErrorf("Topic %q is the operator's, shared by every server; it can only be removed in briefbot's config.", name)
		}
		if err := b.store.RemoveTopic(ctx, name); err != nil {
			return err
		}
		return b.respond(ctx, c, fmt.Sprintf("Removed topic **%s** and its subscriptions.", escape(name)), false)
	default:
		all, err := b.store.Topics(ctx)
		if err != nil {
			return err
		}
		var sb strings.Builder
		for _, t := range all {
			if visible(c.i.GuildID, t.GuildID) {
				fmt.Fprintf(&sb, "**%s**: `%s`\n", escape(t.Name), strings.ReplaceAll(t.Query, "`", "'"))
			}
		}
		if sb.Len() == 0 {
			return b.respond(ctx, c, "No topics yet. Someone with Manage Server can add one with /topics add.", true)
		}
		return b.respond(ctx, c, sb.String(), true)
	}
}

// sources answers /sources list|add|remove.
func (b *Bot) sources(ctx context.Context, c *call) error {
	subcmd, opts := c.options()
	switch subcmd {
	case "add":
		if err := requirePerm(c, permManageServer, "add sources"); err != nil {
			return err
		}
		raw, name := optString(opts, "url"), strings.ToLower(optString(opts, "name"))
		if name != "" && !namePattern.MatchString(name) {
			return userErrorf("Bad source name %q: use 1-64 lower-case letters, digits, '.', '_' or '-'.", name)
		}
		all, err := b.store.Sources(ctx)
		if err != nil {
			return err
		}
		own := 0
		for _, s := range all {
			if s.GuildID == c.i.GuildID {
				own++
			}
		}
		if own >= b.cfg.MaxSources {
			return userErrorf("This server has %d sources, the most allowed. Remove one with /sources remove first.", own)
		}
		if err := b.deferReply(ctx, c); err != nil {
			return err
		}
		src, err := b.service.AddSource(ctx, digest.Source{Name: name, URL: raw, Origin: digest.OriginChat, GuildID: c.i.GuildID, CreatedAt: b.cfg.Now()})
		if errors.Is(err, digest.ErrExists) {
			return userErrorf("That source (name or URL) already exists. See /sources list.")
		} else if err != nil {
			return err
		}
		return b.edit(ctx, c, fmt.Sprintf("Added source **%s** (<%s>), polled every %s.", escape(src.Name), shownURL(src.URL), src.Interval))
	case "remove":
		if err := requirePerm(c, permManageServer, "remove sources"); err != nil {
			return err
		}
		name := optString(opts, "name")
		s, err := b.store.Source(ctx, name)
		if err != nil || !visible(c.i.GuildID, s.GuildID) {
			return userErrorf("There is no source %q here. See /sources list.", name)
		}
		if s.GuildID != c.i.GuildID {
			return userErrorf("Source %q is the operator's, shared by every server; it can only be removed in briefbot's config.", name)
		}
		if err := b.store.RemoveSource(ctx, name); err != nil {
			return err
		}
		return b.respond(ctx, c, fmt.Sprintf("Removed source **%s**; its articles are kept.", escape(name)), false)
	default:
		all, err := b.store.Sources(ctx)
		if err != nil {
			return err
		}
		var sb strings.Builder
		for _, s := range all {
			if !visible(c.i.GuildID, s.GuildID) {
				continue
			}
			state := "ok"
			switch {
			case s.State.Disabled:
				state = "disabled"
			case s.State.Failures > 0:
				state = fmt.Sprintf("failing (%d)", s.State.Failures)
			}
			// Why, for the server's own sources only: the operator's
			// are the operator's to look into.
			if why := sourceProblem(s.State.LastError); why != "" && state != "ok" && s.GuildID == c.i.GuildID {
				state += ": " + why
			}
			fmt.Fprintf(&sb, "**%s** <%s> · %s\n", escape(s.Name), shownURL(s.URL), state)
		}
		if sb.Len() == 0 {
			return b.respond(ctx, c, "No sources yet.", true)
		}
		return b.respond(ctx, c, truncateRunes(sb.String(), 2000), true)
	}
}

// shownURL is a source's URL as shown in Discord: without its userinfo,
// which may hold a password.
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	return u.String()
}

// observesDST reports whether a zone's UTC offset changes during the year.
func observesDST(zone string, now time.Time) bool {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return false
	}
	y := now.Year()
	_, jan := time.Date(y, 1, 1, 12, 0, 0, 0, loc).Zone()
	_, jul := time.Date(y, 7, 1, 12, 0, 0, 0, loc).Zone()
	return jan != jul
}

// edit replaces a deferred reply's content.
func (b *Bot) edit(ctx context.Context, c *call, msg string) error {
	msg = truncateRunes(msg, 2000)
	err := b.editResponse(ctx, c.i, &discordgo.WebhookEdit{Content: &msg, AllowedMentions: noMentions()})
	if err == nil {
		c.answered = true
	}
	return err
}

// autocomplete suggests topics, subscriptions, sources, time zones and
// schedules as the user types.
func (b *Bot) autocomplete(ctx context.Context, c *call) {
	data := c.i.ApplicationCommandData()
	subcmd, opts := c.options()
	var focused *discordgo.ApplicationCommandInteractionDataOption
	for _, o := range opts {
		if o.Focused {
			focused = o
		}
	}
	var choices []*discordgo.ApplicationCommandOptionChoice
	if focused != nil {
		typed := strings.ToLower(fmt.Sprint(focused.Value))
		add := func(name, value string) {
			if len(choices) < 25 && strings.Contains(strings.ToLower(name), typed) {
				choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: truncateRunes(name, 100), Value: value})
			}
		}
		switch {
		case focused.Name == "topic" || (data.Name == "topics" && subcmd == "remove"):
			if ts, err := b.store.Topics(ctx); err == nil {
				for _, t := range ts {
					if visible(c.i.GuildID, t.GuildID) {
						add(t.Name, t.Name)
					}
				}
			}
		case data.Name == "sources" && subcmd == "remove":
			if ss, err := b.store.Sources(ctx); err == nil {
				for _, s := range ss {
					if s.GuildID == c.i.GuildID {
						add(s.Name, s.Name)
					}
				}
			}
		case focused.Name == "subscription":
			if subs, err := b.store.Subscriptions(ctx, c.i.GuildID); err == nil {
				for _, s := range subs {
					add(fmt.Sprintf("#%d %s: %s (%s)", s.ID, s.Topic, s.Schedule, s.TimeZone), strconv.FormatInt(s.ID, 10))
				}
			}
		case focused.Name == "timezone":
			for _, z := range timeZones {
				add(z, z)
			}
			if len(choices) == 0 && typed != "" {
				if _, err := time.LoadLocation(fmt.Sprint(focused.Value)); err == nil {
					add(fmt.Sprint(focused.Value), fmt.Sprint(focused.Value))
				}
			}
		case focused.Name == "schedule":
			for _, s := range []string{"daily 08:00", "daily 18:00", "weekdays 07:30", "mon,thu 18:00", "every 6h", "every 12h", "0 9 * * 1-5"} {
				add(s, s)
			}
			if len(choices) == 0 && typed != "" {
				v := fmt.Sprint(focused.Value)
				choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: truncateRunes(v, 100), Value: v})
			}
		}
	}
	if choices == nil {
		choices = []*discordgo.ApplicationCommandOptionChoice{}
	}
	slices.SortStableFunc(choices, func(a, b *discordgo.ApplicationCommandOptionChoice) int {
		return boolInt(!strings.HasPrefix(strings.ToLower(a.Name), "#")) - boolInt(!strings.HasPrefix(strings.ToLower(b.Name), "#"))
	})
	err := b.callback(ctx, c, &discordgo.InteractionResponse{
		Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: choices},
	})
	if err != nil {
		b.log.Warn("autocomplete reply", "interaction", c.i.ID, "error", err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "~", `\~`, "|", `\|`, ">", `\>`, "[", `\[`, "]", `\]`, "@", "@\u200b", "<", "<\u200b")

// escape neutralizes Discord markdown and mentions in short user- or
// web-supplied strings.
func escape(s string) string { return mdEscaper.Replace(s) }

var channelMention = regexp.MustCompile(`<#[0-9]{1,20}>`)

// escapeKeepChannels escapes s but for its channel mentions (<#id>),
// which render as the channel's name and ping nobody: pause reasons
// written before they named no channel carry one.
func escapeKeepChannels(s string) string {
	var sb strings.Builder
	last := 0
	for _, m := range channelMention.FindAllStringIndex(s, -1) {
		sb.WriteString(escape(s[last:m[0]]))
		sb.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	sb.WriteString(escape(s[last:]))
	return sb.String()
}

package discord

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/bwmarrin/discordgo"
)

// A /brief preview (/brief preview:True) is a briefing shown only to the
// user who asked, rendered exactly as /brief would post it, with a "Post
// to channel" button on its last message. A click on the button posts
// the same rendered messages to the channel, with the part tags, retries
// and exactly-once recording of scheduled posts (a delivery keyed
// brief:<preview>:<attempt>, see post), and updates the preview to say
// so. Previews are kept in memory for previewTTL; a click after that, or
// after a restart, or that reaches a replica which did not build the
// preview, is told that the preview has expired.
const (
	// previewTTL is how long a preview can be posted: the 15 minutes an
	// interaction's token lives.
	previewTTL = 15 * time.Minute
	// maxPreviews bounds the previews kept; the oldest go first.
	maxPreviews = 256
	// postPrefix starts the custom_id of a preview's button; the
	// preview's ID follows (custom_id may be 100 characters).
	postPrefix = "brief:post:"
)

// preview is one /brief preview.
type preview struct {
	id, userID, guildID, channelID string
	// msgs are the rendered messages, as shown and as they are posted
	// (plus part tags).
	msgs     []Message
	articles []string
	created  time.Time

	mu      sync.Mutex
	posting bool   // a click is posting it
	posted  string // the ID of its first message in the channel, once posted
	// attempt counts the deliveries refused before any part was posted
	// (missing permissions): each new click posts a delivery of its own.
	attempt int
}

// link is a jump link to a message of the preview's channel.
func (p *preview) link(messageID string) string {
	return fmt.Sprintf("https://discord.com/channels/%s/%s/%s", p.guildID, p.channelID, messageID)
}

// button states of a preview's last message.
type buttonState int

const (
	buttonEnabled buttonState = iota
	buttonDisabled
	buttonNone
)

// view is the preview's last message with a status line before its
// content and the button in the given state.
func (p *preview) view(status string, state buttonState) (content string, embeds []*discordgo.MessageEmbed, comps []discordgo.MessageComponent) {
	last := p.msgs[len(p.msgs)-1]
	content = status
	if last.Content != "" {
		content += "\n" + last.Content
	}
	comps = []discordgo.MessageComponent{}
	if state != buttonNone {
		comps = postButton(p.id, state == buttonDisabled)
	}
	return truncateRunes(content, 2000), last.Embeds, comps
}

// postButton is the action row holding a preview's "Post to channel"
// button.
func postButton(id string, disabled bool) []discordgo.MessageComponent {
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: "Post to channel", Style: discordgo.PrimaryButton, CustomID: postPrefix + id, Disabled: disabled},
	}}}
}

// previewSet holds the previews that can still be posted, by ID.
type previewSet struct {
	mu   sync.Mutex
	ttl  time.Duration
	max  int
	byID map[string]*preview
}

func newPreviewSet(ttl time.Duration, max int) *previewSet {
	return &previewSet{ttl: ttl, max: max, byID: make(map[string]*preview)}
}

// add keeps p, dropping the expired previews and, beyond max, the oldest.
func (s *previewSet) add(p *preview, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var oldest *preview
	for id, q := range s.byID {
		if now.Sub(q.created) > s.ttl {
			delete(s.byID, id)
		} else if oldest == nil || q.created.Before(oldest.created) {
			oldest = q
		}
	}
	if len(s.byID) >= s.max && oldest != nil {
		delete(s.byID, oldest.id)
	}
	s.byID[p.id] = p
}

// get returns a preview that has not expired, or nil.
func (s *previewSet) get(id string, now time.Time) *preview {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.byID[id]
	if p != nil && now.Sub(p.created) > s.ttl {
		delete(s.byID, id)
		return nil
	}
	return p
}

func (s *previewSet) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, id)
}

// showPreview answers /brief preview:True with the rendered briefing in
// the ephemeral deferred message and ephemeral follow-ups, the last
// carrying the "Post to channel" button. A briefing without stories has
// nothing worth posting and gets no button.
func (b *Bot) showPreview(ctx context.Context, c *call, br digest.Briefing, msgs []Message) error {
	var p *preview
	if len(br.Stories) > 0 {
		p = &preview{id: rand.Text(), userID: c.user(), guildID: c.i.GuildID, channelID: c.i.ChannelID, msgs: msgs, created: b.cfg.Now()}
		for _, s := range br.Stories {
			for _, a := range s.Articles {
				p.articles = append(p.articles, a.ID)
			}
		}
		b.previews.add(p, p.created)
	}
	opt := discordgo.WithContext(ctx)
	for i, m := range msgs {
		var comps []discordgo.MessageComponent
		if p != nil && i == len(msgs)-1 {
			comps = postButton(p.id, false)
		}
		if i == 0 {
			content, embeds := m.Content, m.Embeds
			edit := &discordgo.WebhookEdit{Content: &content, Embeds: &embeds, AllowedMentions: noMentions()}
			if comps != nil {
				edit.Components = &comps
			}
			if err := b.editResponse(ctx, c.i, edit); err != nil {
				if p != nil {
					b.previews.remove(p.id)
				}
				return fmt.Errorf("edit preview in: %w", err)
			}
			c.answered = true
			continue
		}
		params := &discordgo.WebhookParams{Content: m.Content, Embeds: m.Embeds, Components: comps, Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions()}
		if _, err := b.session.FollowupMessageCreate(c.i, true, params, opt); err != nil {
			b.log.Error("preview follow-up", "interaction", c.i.ID, "channel_id", c.i.ChannelID, "error", err)
			if p != nil {
				b.previews.remove(p.id)
			}
			return userErrorf("Part %d of the preview could not be shown, so it can't be posted; run /brief again.", i+1)
		}
	}
	return nil
}

// component answers a click on a button of the bot's.
func (b *Bot) component(ctx context.Context, c *call) {
	id, ok := strings.CutPrefix(c.i.MessageComponentData().CustomID, postPrefix)
	if !ok {
		b.ephemeral(ctx, c, "This button is no longer in use; run /brief again.")
		return
	}
	b.postPreview(ctx, c, id)
}

// postPreview answers a click on a preview's "Post to channel" button: it
// posts the preview once, whoever clicks how often, and only for the user
// who asked for it. The preview is updated at once (UPDATE_MESSAGE, the
// button disabled), so the click is answered within Discord's 3 seconds
// however long posting takes, and then again with the outcome: posted
// (the button removed) or not, and why (the button back).
func (b *Bot) postPreview(ctx context.Context, c *call, id string) {
	p := b.previews.get(id, b.cfg.Now())
	switch {
	case p == nil:
		b.ephemeral(ctx, c, "This preview has expired; run /brief again.")
		return
	case c.user() != p.userID:
		b.ephemeral(ctx, c, "Only the person who ran /brief can post this preview; run /brief yourself for one of your own.")
		return
	}
	p.mu.Lock()
	busy, posted := p.posting, p.posted
	if !busy && posted == "" {
		p.posting = true
	}
	p.mu.Unlock()
	switch {
	case busy:
		b.ephemeral(ctx, c, "This briefing is being posted already.")
		return
	case posted != "":
		b.ephemeral(ctx, c, "This briefing is posted already: "+p.link(posted))
		return
	}
	// done ends this click's turn, before the preview is updated with
	// the outcome: a click that follows the update finds it free.
	released := false
	done := func(first string) {
		p.mu.Lock()
		p.posting, p.posted = false, first
		p.mu.Unlock()
		released = true
	}
	defer func() {
		if !released { // a panic
			done("")
		}
	}()

	update := func(status string, state buttonState) error {
		content, embeds, comps := p.view(status, state)
		return b.callback(ctx, c, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseUpdateMessage,
			Data: &discordgo.InteractionResponseData{Content: content, Embeds: embeds, Components: comps, AllowedMentions: noMentions()},
		})
	}
	// The click comes from the preview's channel, so app_permissions are
	// the bot's there; 0 means Discord did not say.
	if missing := missingPostPerms(c.i.AppPermissions); len(missing) > 0 && c.i.ChannelID == p.channelID {
		msg := fmt.Sprintf("**Not posted:** briefbot is missing the %s in <#%s>. Give it View Channel, Send Messages and Embed Links there (or ask someone who can), then click **Post to channel** again.", permList(missing), p.channelID)
		done("")
		if err := update(msg, buttonEnabled); err != nil {
			b.log.Warn("answer preview click", "interaction", c.i.ID, "error", err)
		}
		return
	}
	if err := update(fmt.Sprintf("-# Posting to <#%s>…", p.channelID), buttonDisabled); err != nil {
		// The click failed for the user, who can click again.
		done("")
		b.log.Warn("answer preview click", "interaction", c.i.ID, "error", err)
		return
	}
	c.answered = true

	first, err := b.postPreviewParts(ctx, p)
	done(first)
	status, state := "", buttonEnabled
	if err == nil {
		status, state = fmt.Sprintf("**Posted** to <#%s>: %s", p.channelID, p.link(first)), buttonNone
	} else {
		status = b.postFailure(c, p, err)
	}
	content, embeds, comps := p.view(status, state)
	if err := b.editResponse(ctx, c.i, &discordgo.WebhookEdit{Content: &content, Embeds: &embeds, Components: &comps, AllowedMentions: noMentions()}); err != nil {
		b.log.Warn("update preview", "interaction", c.i.ID, "error", err)
	}
}

// postFailure says why a preview was not posted, logging what is not the
// user's to fix.
func (b *Bot) postFailure(c *call, p *preview, err error) string {
	lead := "**Not posted:**"
	var partial *partialError
	if errors.As(err, &partial) {
		lead = fmt.Sprintf("**Posted %d of %d parts**, then stopped:", partial.posted, len(p.msgs))
	}
	var refused *refusedError
	switch {
	case errors.As(err, &refused) && refused.status == http.StatusForbidden:
		return fmt.Sprintf("%s Discord says briefbot may not post in <#%s> (%s). Give it View Channel, Send Messages and Embed Links there (or ask someone who can), then click **Post to channel** again.", lead, p.channelID, discordReason(refused.err))
	case errors.As(err, &refused) && refused.status == http.StatusNotFound:
		return fmt.Sprintf("%s <#%s> is gone, or briefbot can no longer see it.", lead, p.channelID)
	case errors.As(err, &refused):
		b.log.Error("preview refused by Discord", "interaction", c.i.ID, "channel_id", p.channelID, "error", err)
		return fmt.Sprintf("%s Discord refused the briefing (%s).", lead, discordReason(refused.err))
	default:
		b.log.Warn("preview not posted", "interaction", c.i.ID, "channel_id", p.channelID, "error", err)
		return lead + " something went wrong on the way to Discord. Click **Post to channel** to try again."
	}
}

// partialError is a preview delivery that stopped with some parts posted.
type partialError struct {
	posted int
	err    error
}

func (e *partialError) Error() string { return e.err.Error() }
func (e *partialError) Unwrap() error { return e.err }

// postPreviewParts posts a preview's messages to its channel as a
// delivery of its own and returns the ID of the first. A delivery refused
// before any part was posted is marked failed, and the next click starts
// another; one interrupted after some parts is resumed by the next click,
// which posts only the parts still missing.
func (b *Bot) postPreviewParts(ctx context.Context, p *preview) (string, error) {
	key := fmt.Sprintf("brief:%s:%d", p.id, p.attempt)
	msgs := slices.Clone(p.msgs)
	ref := deliveryRef(key)
	for i := range msgs {
		markPart(&msgs[i], ref, i)
	}
	payload, err := json.Marshal(msgs)
	if err != nil {
		return "", fmt.Errorf("encode delivery %s: %w", key, err)
	}
	now := b.cfg.Now()
	d, _, err := b.store.StartDelivery(ctx, digest.Delivery{
		Key: key, ChannelID: p.channelID, Parts: len(msgs), Payload: payload, Articles: p.articles,
		State: digest.DeliveryPending, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return "", fmt.Errorf("start delivery %s: %w", key, err)
	}
	perr := b.post(ctx, d, false)
	d, err = b.store.Delivery(ctx, key)
	if err != nil {
		return "", fmt.Errorf("delivery %s: %w", key, errors.Join(perr, err))
	}
	var refused *refusedError
	switch {
	case perr == nil && len(d.MessageIDs) > 0:
		return d.MessageIDs[0], nil
	case perr == nil:
		return "", fmt.Errorf("delivery %s: %s with no part posted", key, d.State)
	case errors.As(perr, &refused) && len(d.MessageIDs) == 0:
		if err := b.store.FinishDelivery(ctx, key, digest.DeliveryFailed, refused.err.Error()); err != nil {
			return "", errors.Join(perr, err)
		}
		p.attempt++
		return "", perr
	case len(d.MessageIDs) > 0:
		return "", &partialError{posted: len(d.MessageIDs), err: perr}
	}
	return "", perr
}

// missingPostPerms names the permissions a bot with perms lacks to post a
// briefing in a channel: none if it has them all, or if perms is 0
// (unknown). Send Messages in Threads counts for Send Messages, as the
// channel may be a thread.
func missingPostPerms(perms int64) []string {
	if perms == 0 || perms&discordgo.PermissionAdministrator != 0 {
		return nil
	}
	var missing []string
	if perms&discordgo.PermissionViewChannel == 0 {
		missing = append(missing, "View Channel")
	}
	if perms&(discordgo.PermissionSendMessages|discordgo.PermissionSendMessagesInThreads) == 0 {
		missing = append(missing, "Send Messages")
	}
	if perms&discordgo.PermissionEmbedLinks == 0 {
		missing = append(missing, "Embed Links")
	}
	return missing
}

// permList is "the X permission" or "the X, Y and Z permissions" without
// "the".
func permList(names []string) string {
	if len(names) == 1 {
		return names[0] + " permission"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " permissions"
}

// discordReason is Discord's own message in a REST error, such as
// "Missing Permissions", or the error itself.
func discordReason(err error) string {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil && re.Message.Message != "" {
		return re.Message.Message
	}
	return err.Error()
}

package discord

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/bwmarrin/discordgo"
)

// Deliver posts the briefing of a subscription's slot to its channel,
// exactly once: the delivery is recorded before posting and each part as
// it is posted, so a repeat of the same slot posts nothing and a
// delivery interrupted half-way posts only its missing parts. late marks
// a catch-up post after downtime.
//
// On success sub.LastDelivered is set to slot. When the channel is gone or
// the bot lost access (403/404), the subscription is paused with the
// reason (sub.Paused, sub.PauseReason) and the delivery marked failed. The
// caller persists sub and advances its NextSlot.
func (b *Bot) Deliver(ctx context.Context, sub *digest.Subscription, slot time.Time, late bool) error {
	loc, err := time.LoadLocation(sub.TimeZone)
	if err != nil {
		return fmt.Errorf("subscription %d: %w", sub.ID, err)
	}
	key := digest.DeliveryKey(sub.ID, slot.In(loc))
	d, err := b.store.Delivery(ctx, key)
	resumed := err == nil
	switch {
	case errors.Is(err, digest.ErrNotFound):
		if d, resumed, err = b.startDelivery(ctx, sub, key, slot, late); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("delivery %s: %w", key, err)
	}
	switch d.State {
	case digest.DeliveryDone:
		if d.Parts > 0 { // not a slot skipped for having nothing new
			sub.LastDelivered = slot
		}
		return nil
	case digest.DeliveryFailed:
		return nil // given up; the slot moves on
	}
	var msgs []Message
	if err := json.Unmarshal(d.Payload, &msgs); err != nil || len(msgs) != d.Parts {
		reason := fmt.Sprintf("stored payload unusable (%d parts planned): %v", d.Parts, err)
		return b.store.FinishDelivery(ctx, key, digest.DeliveryFailed, reason)
	}

	posted := len(d.MessageIDs)
	if resumed {
		// Resuming: a part may have been posted but not recorded. Find it
		// in the channel rather than post it twice.
		if posted, err = b.recoverParts(ctx, key, sub.ChannelID, deliveryRef(key), posted, len(msgs)); err != nil {
			return err
		}
	}
	for i := posted; i < len(msgs); i++ {
		id, err := b.postPart(ctx, sub.ChannelID, deliveryRef(key), i, msgs[i])
		if err != nil {
			switch s := restStatus(err); {
			case s == http.StatusForbidden || s == http.StatusNotFound:
				sub.Paused = true
				sub.PauseReason = fmt.Sprintf("can't post in <#%s> (%s); fix the channel permissions, then subscribe again", sub.ChannelID, http.StatusText(s))
				b.log.Warn("subscription paused", "subscription", sub.ID, "channel_id", sub.ChannelID, "error", err)
				return b.store.FinishDelivery(ctx, key, digest.DeliveryFailed, err.Error())
			case s >= 400 && s < 500 && s != http.StatusTooManyRequests && s != http.StatusRequestTimeout:
				// Discord refused the message itself: retrying cannot help.
				b.log.Error("delivery refused by Discord", "subscription", sub.ID, "channel_id", sub.ChannelID, "error", err)
				return b.store.FinishDelivery(ctx, key, digest.DeliveryFailed, err.Error())
			}
			return fmt.Errorf("post part %d of %s: %w", i+1, key, err)
		}
		if err := b.store.RecordPart(ctx, key, i, id); err != nil {
			return fmt.Errorf("record part %d of %s: %w", i+1, key, err)
		}
	}
	if err := b.store.FinishDelivery(ctx, key, digest.DeliveryDone, ""); err != nil {
		return err
	}
	sub.LastDelivered = slot
	return nil
}

// startDelivery builds and renders the slot's briefing and records the
// delivery with its parts, before anything is posted.
// It reports whether the delivery already existed (another process
// started it first).
func (b *Bot) startDelivery(ctx context.Context, sub *digest.Subscription, key string, slot time.Time, late bool) (digest.Delivery, bool, error) {
	since := 24 * time.Hour
	if !sub.LastDelivered.IsZero() {
		since = min(max(slot.Sub(sub.LastDelivered), time.Hour), 7*24*time.Hour)
	}
	br, err := b.service.Brief(ctx, BriefRequest{GuildID: sub.GuildID, Topic: sub.Topic, Since: since, To: slot, Language: sub.Language}, nil)
	if err != nil {
		return digest.Delivery{}, false, fmt.Errorf("brief for subscription %d: %w", sub.ID, err)
	}
	if len(br.Stories) == 0 {
		// Nothing new matched: a scheduled briefing says nothing rather
		// than post "nothing matched" into the channel every slot. The
		// slot is recorded as done with no parts.
		d, existed, err := b.store.StartDelivery(ctx, digest.Delivery{
			Key: key, SubscriptionID: sub.ID, ChannelID: sub.ChannelID, Slot: slot,
			State: digest.DeliveryDone, CreatedAt: b.cfg.Now(), UpdatedAt: b.cfg.Now(),
		})
		if err != nil {
			return digest.Delivery{}, false, fmt.Errorf("start delivery %s: %w", key, err)
		}
		return d, existed, nil
	}
	msgs := Render(br, slot)
	if late {
		note := fmt.Sprintf("-# Late: this briefing was due <t:%d:f>; briefbot was offline.", slot.Unix())
		msgs[0].Content = strings.TrimSpace(note + "\n" + msgs[0].Content)
	}
	ref := deliveryRef(key)
	for i := range msgs {
		markPart(&msgs[i], ref, i)
	}
	payload, err := json.Marshal(msgs)
	if err != nil {
		return digest.Delivery{}, false, fmt.Errorf("encode delivery %s: %w", key, err)
	}
	now := b.cfg.Now()
	d, existed, err := b.store.StartDelivery(ctx, digest.Delivery{
		Key: key, SubscriptionID: sub.ID, ChannelID: sub.ChannelID, Slot: slot,
		Parts: len(msgs), Payload: payload, State: digest.DeliveryPending, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return digest.Delivery{}, false, fmt.Errorf("start delivery %s: %w", key, err)
	}
	return d, existed, nil
}

// deliveryRef is a short tag of a delivery key, written into each part's
// footer so that parts posted but not recorded can be found again.
func deliveryRef(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:4])
}

func partTag(ref string, i int) string { return fmt.Sprintf("ref %s-%d", ref, i+1) }

// markPart adds the part's tag to its content, as small text; content is
// outside the embeds' 6000-character budget.
func markPart(m *Message, ref string, i int) {
	tag := "-# " + partTag(ref, i)
	m.Content = strings.TrimSpace(truncateRunes(m.Content, 2000-len(tag)-1) + "\n" + tag)
}

// recoverParts looks through the channel's recent messages for parts of
// this delivery posted but not recorded, records them, and returns how
// many parts are now posted.
func (b *Bot) recoverParts(ctx context.Context, key, channelID, ref string, posted, parts int) (int, error) {
	found, err := b.findParts(ctx, channelID, ref)
	if err != nil {
		return posted, fmt.Errorf("look for posted parts of %s: %w", key, err)
	}
	for i := posted; i < parts; i++ {
		id, ok := found[i]
		if !ok {
			break
		}
		if err := b.store.RecordPart(ctx, key, i, id); err != nil {
			return posted, err
		}
		posted++
	}
	return posted, nil
}

// findParts maps part numbers of a delivery to the IDs of the bot's
// recent messages in the channel that carry their tags.
func (b *Bot) findParts(ctx context.Context, channelID, ref string) (map[int]string, error) {
	_, me := b.ids()
	if me == "" {
		return nil, errors.New("bot user unknown")
	}
	recent, err := b.session.ChannelMessages(channelID, 100, "", "", "", discordgo.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	found := make(map[int]string)
	prefix := "ref " + ref + "-"
	for _, m := range recent {
		if m.Author == nil || m.Author.ID != me {
			continue
		}
		at := strings.LastIndex(m.Content, prefix)
		if at < 0 {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(m.Content[at+len(prefix):], "%d", &n); err == nil && n >= 1 {
			found[n-1] = m.ID
		}
	}
	return found, nil
}

// postPart posts part i with mentions disabled. discordgo retries 429s
// itself. After a 5xx or a timeout the message may have been created
// anyway, so before each retry the channel is searched for the part's tag:
// a part is never posted twice.
func (b *Bot) postPart(ctx context.Context, channelID, ref string, i int, m Message) (string, error) {
	data := &discordgo.MessageSend{Content: m.Content, Embeds: m.Embeds, AllowedMentions: noMentions()}
	wait := time.Second
	for attempt := 0; ; attempt++ {
		msg, err := b.session.ChannelMessageSendComplex(channelID, data, discordgo.WithContext(ctx), discordgo.WithRestRetries(0))
		if err == nil {
			return msg.ID, nil
		}
		if attempt == 3 || !retryable(err) {
			return "", err
		}
		b.log.Warn("post failed; retrying", "channel_id", channelID, "error", err, "wait", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return "", ctx.Err()
		}
		wait *= 2
		found, ferr := b.findParts(ctx, channelID, ref)
		if ferr != nil {
			// Unknown whether the part went out: do not risk a second
			// copy. The next attempt resumes with recoverParts.
			return "", fmt.Errorf("%w (and looking for it failed: %v)", err, ferr)
		}
		if id, ok := found[i]; ok {
			return id, nil
		}
	}
}

func retryable(err error) bool {
	if s := restStatus(err); s >= 500 || s == http.StatusTooManyRequests || s == http.StatusRequestTimeout {
		return true
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) {
		return false
	}
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) {
		return true
	}
	return !errors.Is(err, context.Canceled) // network errors and timeouts
}

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

// Record renders the briefing of a subscription's slot and records the
// delivery with its parts and articles, before anything is posted (see
// Post). A briefing without stories is recorded as done with no parts,
// unless the subscription asks for a "nothing new" line
// (digest.NothingNewPost), which is then its one part. If the slot's
// delivery exists already, Record returns it unchanged with existed true.
func (b *Bot) Record(ctx context.Context, sub digest.Subscription, slot time.Time, br digest.Briefing) (d digest.Delivery, existed bool, err error) {
	loc, err := time.LoadLocation(sub.TimeZone)
	if err != nil {
		return digest.Delivery{}, false, fmt.Errorf("subscription %d: %w", sub.ID, err)
	}
	key := digest.DeliveryKey(sub.ID, slot.In(loc))
	now := b.cfg.Now()
	d = digest.Delivery{
		Key: key, SubscriptionID: sub.ID, ChannelID: sub.ChannelID, Slot: slot,
		State: digest.DeliveryPending, CreatedAt: now, UpdatedAt: now,
	}
	var msgs []Message
	switch {
	case len(br.Stories) > 0:
		msgs = Render(br, slot)
	case sub.NothingNew == digest.NothingNewPost:
		msgs = []Message{RenderNothingNew(sub.Topic, br.From)}
	default:
		// Nothing new, and the channel asked for silence: the slot is
		// done with no parts.
		d.State = digest.DeliveryDone
	}
	ref := deliveryRef(key)
	for i := range msgs {
		markPart(&msgs[i], ref, i)
	}
	if len(msgs) > 0 {
		if d.Payload, err = json.Marshal(msgs); err != nil {
			return digest.Delivery{}, false, fmt.Errorf("encode delivery %s: %w", key, err)
		}
	}
	d.Parts = len(msgs)
	for _, s := range br.Stories {
		for _, a := range s.Articles {
			d.Articles = append(d.Articles, a.ID)
		}
	}
	d, existed, err = b.store.StartDelivery(ctx, d)
	if err != nil {
		return digest.Delivery{}, false, fmt.Errorf("start delivery %s: %w", key, err)
	}
	return d, existed, nil
}

// Post posts the parts of a subscription's recorded slot not posted yet,
// each recorded as it is posted, so a repeat posts nothing and an
// interrupted delivery posts only its missing parts. Each start of
// posting is counted in the store (StartAttempt): after an earlier start,
// whatever process made it, a part may have been posted without being
// recorded, so the channel is searched for it first. A delivery posted more than
// Config.LateAfter after its slot says it is late.
//
// When the channel is gone or the bot lost access (403/404), the
// subscription is paused with the reason and the delivery marked failed;
// a message Discord refuses fails the delivery too. Both return nil:
// retrying cannot help. Other errors (5xx, timeouts, an outage) are
// returned for the caller to retry. A slot never recorded yields an
// error wrapping digest.ErrNotFound.
func (b *Bot) Post(ctx context.Context, sub digest.Subscription, slot time.Time) error {
	loc, err := time.LoadLocation(sub.TimeZone)
	if err != nil {
		return fmt.Errorf("subscription %d: %w", sub.ID, err)
	}
	key := digest.DeliveryKey(sub.ID, slot.In(loc))
	d, err := b.store.Delivery(ctx, key)
	if err != nil {
		return fmt.Errorf("delivery %s: %w", key, err)
	}
	late := b.cfg.Now().Sub(slot) > b.cfg.LateAfter
	err = b.post(ctx, d, late)
	var refused *refusedError
	if !errors.As(err, &refused) {
		return err
	}
	if s := refused.status; s == http.StatusForbidden || s == http.StatusNotFound {
		reason := pauseReason(refused)
		b.log.Warn("subscription paused", "subscription", sub.ID, "channel_id", sub.ChannelID, "error", refused.err)
		if err := b.store.PauseSubscription(ctx, sub.ID, reason); err != nil {
			return err
		}
	} else {
		b.log.Error("delivery refused by Discord", "subscription", sub.ID, "channel_id", sub.ChannelID, "error", refused.err)
	}
	return b.store.FinishDelivery(ctx, key, digest.DeliveryFailed, refused.err.Error())
}

// pauseReason says, for people, why a 403 or a 404 paused a
// subscription and how to resume it. /subscriptions shows it after the
// channel's mention, so it names no channel; it names Discord's error
// code, which tells a missing permission (50013) from a channel the bot
// cannot see (50001).
func pauseReason(refused *refusedError) string {
	code, msg := 0, http.StatusText(refused.status)
	var re *discordgo.RESTError
	if errors.As(refused.err, &re) && re.Message != nil {
		code = re.Message.Code
		if re.Message.Message != "" {
			msg = re.Message.Message
		}
	}
	said := fmt.Sprintf("Discord: %d %s", refused.status, msg)
	if code != 0 {
		said = fmt.Sprintf("Discord: %d %s", code, msg)
	}
	fix := "grant it " + subscribePermsText + ", then run the same /subscribe to resume"
	switch {
	case refused.status == http.StatusNotFound:
		return fmt.Sprintf("the channel is gone, or briefbot can't see it (%s): if it still exists, %s; if not, /unsubscribe", said, fix)
	case code == discordgo.ErrCodeMissingAccess:
		return fmt.Sprintf("briefbot can't see the channel (%s): %s", said, fix)
	case code == discordgo.ErrCodeMissingPermissions:
		return fmt.Sprintf("briefbot may not post there (%s): %s", said, fix)
	}
	return fmt.Sprintf("Discord refused the briefing (%s): %s", said, fix)
}

// Notice posts a one-line notice to a channel once per key, with the
// same exactly-once recording as a briefing. A channel that refuses it
// fails the notice (logged), without error.
func (b *Bot) Notice(ctx context.Context, key, channelID, text string) error {
	m := Message{Content: truncateRunes(text, 1800)}
	markPart(&m, deliveryRef(key), 0)
	payload, err := json.Marshal([]Message{m})
	if err != nil {
		return fmt.Errorf("encode notice %s: %w", key, err)
	}
	now := b.cfg.Now()
	d, _, err := b.store.StartDelivery(ctx, digest.Delivery{
		Key: key, ChannelID: channelID, Parts: 1, Payload: payload,
		State: digest.DeliveryPending, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return fmt.Errorf("start notice %s: %w", key, err)
	}
	err = b.post(ctx, d, false)
	var refused *refusedError
	if errors.As(err, &refused) {
		b.log.Warn("notice refused by Discord", "channel_id", channelID, "error", refused.err)
		return b.store.FinishDelivery(ctx, key, digest.DeliveryFailed, refused.err.Error())
	}
	return err
}

// refusedError is a part Discord refused for good (a 4xx other than 429
// and 408): the delivery cannot succeed by retrying.
type refusedError struct {
	status int
	err    error
}

func (e *refusedError) Error() string { return e.err.Error() }

// post posts a recorded delivery's missing parts and marks it done. late
// adds the late line to the first part, if it is still to be posted.
func (b *Bot) post(ctx context.Context, d digest.Delivery, late bool) error {
	if d.State != digest.DeliveryPending {
		return nil // done, or given up
	}
	var msgs []Message
	if err := json.Unmarshal(d.Payload, &msgs); err != nil || len(msgs) != d.Parts {
		reason := fmt.Sprintf("stored payload unusable (%d parts planned): %v", d.Parts, err)
		return b.store.FinishDelivery(ctx, d.Key, digest.DeliveryFailed, reason)
	}
	posted := len(d.MessageIDs)
	if posted == len(msgs) {
		return b.store.FinishDelivery(ctx, d.Key, digest.DeliveryDone, "")
	}
	before, err := b.store.StartAttempt(ctx, d.Key)
	if err != nil {
		return err
	}
	if before > 0 {
		// A part may have been posted but not recorded. Find it in the
		// channel rather than post it twice.
		if posted, err = b.recoverParts(ctx, d.Key, d.ChannelID, deliveryRef(d.Key), posted, len(msgs), d.CreatedAt); err != nil {
			return err
		}
	}
	for i := posted; i < len(msgs); i++ {
		m := msgs[i]
		if i == 0 && late && !d.Slot.IsZero() {
			note := fmt.Sprintf("-# Late: this briefing was due <t:%d:f>.", d.Slot.Unix())
			m.Content = withNote(m.Content, note)
		}
		id, err := b.postPart(ctx, d.ChannelID, deliveryRef(d.Key), i, m)
		if err != nil {
			if s := restStatus(err); s >= 400 && s < 500 && s != http.StatusTooManyRequests && s != http.StatusRequestTimeout {
				return &refusedError{status: s, err: err}
			}
			return fmt.Errorf("post part %d of %s: %w", i+1, d.Key, err)
		}
		if err := b.store.RecordPart(ctx, d.Key, i, id); err != nil {
			return fmt.Errorf("record part %d of %s: %w", i+1, d.Key, err)
		}
	}
	return b.store.FinishDelivery(ctx, d.Key, digest.DeliveryDone, "")
}

// withNote puts a line above a part's content within Discord's 2,000
// characters, shortening the content's body if need be but never its
// last line, the part's tag, by which a retry finds a part already
// posted.
func withNote(content, note string) string {
	body, tag := "", content
	if i := strings.LastIndexByte(content, '\n'); i >= 0 {
		body, tag = content[:i], content[i+1:]
	}
	if body == "" {
		return note + "\n" + tag
	}
	room := 2000 - len([]rune(note)) - len([]rune(tag)) - 2
	return note + "\n" + truncateRunes(body, room) + "\n" + tag
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
func (b *Bot) recoverParts(ctx context.Context, key, channelID, ref string, posted, parts int, since time.Time) (int, error) {
	found, err := b.findParts(ctx, channelID, ref, since)
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
// messages in the channel that carry their tags. It reads the channel
// back, newest first, 100 messages a page, until messages older than
// since (a delivery's parts cannot be older than its record), the start of
// the channel, or maxFindPages pages.
func (b *Bot) findParts(ctx context.Context, channelID, ref string, since time.Time) (map[int]string, error) {
	_, me, err := b.ensureIDs(ctx)
	if err != nil {
		return nil, err
	}
	found := make(map[int]string)
	prefix := "ref " + ref + "-"
	before := ""
	for range maxFindPages {
		page, err := b.session.ChannelMessages(channelID, 100, before, "", "", discordgo.WithContext(ctx))
		if err != nil {
			return nil, err
		}
		for _, m := range page {
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
		if len(page) < 100 {
			break
		}
		oldest := page[len(page)-1]
		if t, err := discordgo.SnowflakeTimestamp(oldest.ID); err == nil && t.Before(since.Add(-time.Minute)) {
			break
		}
		before = oldest.ID
	}
	return found, nil
}

// maxFindPages bounds how far back findParts reads a busy channel.
const maxFindPages = 20

// postPart posts part i with mentions disabled. discordgo retries 429s
// itself. After a 5xx or a timeout the message may have been created
// anyway, so before each retry the channel is searched for the part's tag:
// a part is never posted twice.
func (b *Bot) postPart(ctx context.Context, channelID, ref string, i int, m Message) (string, error) {
	data := &discordgo.MessageSend{Content: m.Content, Embeds: m.Embeds, AllowedMentions: noMentions()}
	wait := b.cfg.RetryWait
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
		found, ferr := b.findParts(ctx, channelID, ref, time.Now().Add(-time.Hour))
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

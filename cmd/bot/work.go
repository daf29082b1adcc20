package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/discord"
	"github.com/briefbot/briefbot/jobs"
	"github.com/briefbot/briefbot/schedule"
	"github.com/briefbot/briefbot/sources"
	"github.com/briefbot/briefbot/sqlstore"
)

// Windows of scheduled briefings.
const (
	// firstWindow is what a subscription's first briefing covers.
	firstWindow = 24 * time.Hour
	// maxWindow caps what a briefing covers after a long silence.
	maxWindow = 7 * 24 * time.Hour
	// contextLookback reaches back before a briefing's window for the
	// articles a channel has seen, so a story it received is recognised
	// as an update rather than told again as new.
	contextLookback = 48 * time.Hour
)

// work implements jobs.Handler: what each durable job does. The tick
// decides what is due; polls, builds, deliveries and notices carry it out.
type work struct {
	cfg    *Config
	store  *sqlstore.Store
	poller *sources.Poller
	svc    *service
	bot    *discord.Bot
	now    func() time.Time
	log    *slog.Logger
	// metrics counts polls, briefings and deliveries; nil counts nothing.
	metrics *metrics
}

var _ jobs.Handler = (*work)(nil)

// Tick enqueues the polls of due sources and one build per group of
// subscriptions due in the same slot with the same topic, guild and
// language, then moves each subscription's NextSlot on. Enqueueing comes
// first, so a crash in between repeats an enqueue (which changes nothing)
// rather than losing a slot.
func (w *work) Tick(ctx context.Context, q digest.Queue) error {
	now := w.now()
	var errs []error
	srcs, err := w.store.Sources(ctx)
	if err != nil {
		return err
	}
	for _, s := range srcs {
		if !s.State.Disabled && !s.State.NextPoll.After(now) {
			if err := q.EnqueuePoll(ctx, digest.PollJob{SourceID: s.ID, Due: s.State.NextPoll}); err != nil {
				errs = append(errs, err)
			}
		}
	}

	subs, err := w.store.DueSubscriptions(ctx, now)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	type group struct {
		job  digest.BuildJob
		subs []digest.Subscription
	}
	var groups []*group
	byKey := map[string]*group{}
	next := map[int64]time.Time{}
	for _, sub := range subs {
		if sub.TopicID == 0 {
			w.pause(ctx, sub, fmt.Sprintf("topic %s was removed; unsubscribe, or subscribe to another topic", sub.Topic))
			continue
		}
		sch, err := schedule.ParseWith(sub.Schedule, sub.TimeZone, schedule.ParseOptions{MinInterval: w.cfg.Schedule.minInterval})
		if err != nil {
			w.pause(ctx, sub, "bad schedule: "+err.Error())
			continue
		}
		dec := schedule.Due(sch, sub.NextSlot, now, sub.CatchUp, w.cfg.Schedule.catchUpWindow)
		next[sub.ID] = dec.Next
		if !dec.Post {
			if !sub.NextSlot.IsZero() && !sub.NextSlot.After(now) {
				w.log.Info("missed slot skipped", "subscription", sub.ID, "slot", sub.NextSlot, "catch_up", sub.CatchUp)
			}
			continue
		}
		key := fmt.Sprintf("%d|%s|%s|%d", sub.TopicID, sub.GuildID, sub.Language, dec.Slot.UnixMilli())
		g := byKey[key]
		if g == nil {
			g = &group{job: digest.BuildJob{TopicID: sub.TopicID, GuildID: sub.GuildID, Language: sub.Language, Slot: dec.Slot}}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.job.Subscriptions = append(g.job.Subscriptions, sub.ID)
		g.subs = append(g.subs, sub)
	}
	for _, g := range groups {
		slices.Sort(g.job.Subscriptions)
		if err := q.EnqueueBuild(ctx, g.job); err != nil {
			// Not advanced: the next tick enqueues the slot again.
			errs = append(errs, err)
			for _, sub := range g.subs {
				delete(next, sub.ID)
			}
		}
	}
	for _, sub := range subs {
		if n, ok := next[sub.ID]; ok && !n.Equal(sub.NextSlot) {
			if err := w.store.AdvanceSubscription(ctx, sub.ID, n); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// pause pauses a subscription the tick cannot schedule, logging the
// reason; /subscriptions shows it.
func (w *work) pause(ctx context.Context, sub digest.Subscription, reason string) {
	w.log.Warn("subscription paused", "subscription", sub.ID, "channel_id", sub.ChannelID, "error", reason)
	if err := w.store.PauseSubscription(ctx, sub.ID, reason); err != nil {
		w.log.Error("pause subscription", "subscription", sub.ID, "error", err)
	}
}

// Poll polls one source, unless it was polled (or disabled) since the
// job was queued. A source that this poll disables gets a notice in the
// channels of its guild's subscriptions.
func (w *work) Poll(ctx context.Context, j digest.PollJob, q digest.Queue) error {
	src, err := w.store.SourceByID(ctx, j.SourceID)
	if errors.Is(err, digest.ErrNotFound) {
		return nil // removed since
	}
	if err != nil {
		return err
	}
	after := src
	switch {
	case src.State.Disabled && !src.State.LastPoll.Before(j.Due):
		// This job's own poll disabled it, and an earlier attempt failed
		// before its notices were all queued: queue them again below.
	case src.State.Disabled || !src.State.NextPoll.Equal(j.Due):
		return nil // polled or disabled since the job was queued
	default:
		res := w.poller.Poll(ctx, src, false)
		switch res.Status {
		case sources.StatusFailed:
			w.log.Warn("poll failed", "source", src.Name, "error", res.Error)
		default:
			w.log.Debug("polled", "source", src.Name, "status", res.Status, "article_count", res.New)
		}
		after, err = w.store.SourceByID(ctx, src.ID)
		w.metrics.poll(res, err == nil && after.State.Disabled)
		if err != nil {
			return err
		}
		if !after.State.Disabled && after.State.NextPoll.Equal(j.Due) {
			// The outcome was not saved: fail, so the poll is retried
			// rather than the source left unpolled.
			return fmt.Errorf("poll %s: fetch state not saved: %s", src.Name, res.Error)
		}
	}
	if !after.State.Disabled || src.GuildID == "" {
		return nil
	}
	subs, err := w.store.Subscriptions(ctx, src.GuildID)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("briefbot stopped polling the source **%s** after %s in a row. "+
		"A server manager can check it with `/sources list`, then remove it with `/sources remove` or add it again once the feed works.",
		src.Name, plural(after.State.Failures, "failed poll"))
	seen := map[string]bool{}
	var errs []error
	for _, sub := range subs {
		if sub.Paused || seen[sub.ChannelID] {
			continue
		}
		seen[sub.ChannelID] = true
		key := fmt.Sprintf("notice:source-disabled:%d:%d:%s", src.ID, after.State.LastPoll.UnixMilli(), sub.ChannelID)
		if err := q.EnqueueNotice(ctx, digest.NoticeJob{Key: key, ChannelID: sub.ChannelID, Text: text}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Build records the slot's delivery for each subscription of the job and
// queues it. The articles are selected and clustered once for the group;
// subscriptions that have seen the same articles since the same time get
// the same briefing, written once, and a story summarized for one is a
// cache hit for the others.
func (w *work) Build(ctx context.Context, j digest.BuildJob, q digest.Queue) error {
	var todo []digest.Subscription
	for _, id := range j.Subscriptions {
		sub, err := w.store.Subscription(ctx, id)
		switch {
		case errors.Is(err, digest.ErrNotFound):
			continue // unsubscribed since
		case err != nil:
			return err
		case sub.Paused || sub.TopicID != j.TopicID:
			continue
		}
		key := slotKey(sub, j.Slot)
		if d, err := w.store.Delivery(ctx, key); err == nil {
			// Recorded by an earlier attempt, or under the same local
			// time an hour before (a DST fall-back): only the enqueue
			// may be missing, for the recorded slot.
			if err := q.EnqueueDeliver(ctx, digest.DeliverJob{SubscriptionID: sub.ID, Slot: d.Slot}); err != nil {
				return err
			}
			continue
		} else if !errors.Is(err, digest.ErrNotFound) {
			return err
		}
		todo = append(todo, sub)
	}
	if len(todo) == 0 {
		return nil
	}
	if late := w.now().Sub(j.Slot); late > max(w.cfg.Schedule.catchUpWindow, schedule.LateAfter) {
		// Failing this long (the database or the summarizer down): record
		// the slot as failed for each channel rather than lose it quietly.
		for _, sub := range todo {
			w.failSlot(ctx, sub, j.Slot, fmt.Sprintf("briefing not built within %s of its slot", shortDuration(w.cfg.Schedule.catchUpWindow)))
		}
		return nil
	}
	topic, err := w.store.Topic(ctx, todo[0].Topic)
	if errors.Is(err, digest.ErrNotFound) || (err == nil && topic.ID != j.TopicID) {
		return nil // removed since: the tick pauses its subscriptions
	}
	if err != nil {
		return fmt.Errorf("build slot %s: %w", j.Slot.Format(time.RFC3339), err)
	}

	// One selection covers every subscription's window, reaching back for
	// the articles they have seen.
	from := func(sub digest.Subscription) time.Time {
		f := j.Slot.Add(-firstWindow)
		if !sub.LastDelivered.IsZero() {
			f = sub.LastDelivered
		}
		return maxTime(f, j.Slot.Add(-maxWindow))
	}
	selFrom := from(todo[0])
	for _, sub := range todo[1:] {
		selFrom = minTime(selFrom, from(sub))
	}
	selFrom = selFrom.Add(-contextLookback)
	sel := digest.Selection{Topic: &topic, Query: topic.Query, From: selFrom, To: j.Slot}
	arts, _, err := w.svc.selectVisible(ctx, j.GuildID, sel)
	if err != nil {
		return err
	}
	opts := digest.BriefOptions{MaxStories: 6, Language: j.Language}
	stories := w.svc.builder.Stories(sel, arts, opts)

	written := map[string]digest.Briefing{}
	var errs []error
	for _, sub := range todo {
		if err := w.buildOne(ctx, j, q, sub, from(sub), selFrom, &topic, stories, opts, written); err != nil {
			// The others go on; the retry does this one again.
			errs = append(errs, fmt.Errorf("subscription %d: %w", sub.ID, err))
		}
	}
	w.log.Info("briefings built", "topic", topic.Name, "slot", j.Slot, "subscriptions", len(todo),
		"briefings", len(written), "article_count", len(arts), "stories", len(stories))
	return errors.Join(errs...)
}

// buildOne records one subscription's delivery of the slot, writing its
// briefing unless one covering the same articles was written already.
func (w *work) buildOne(ctx context.Context, j digest.BuildJob, q digest.Queue, sub digest.Subscription, subFrom, selFrom time.Time,
	topic *digest.Topic, stories []digest.Story, opts digest.BriefOptions, written map[string]digest.Briefing) error {
	seen, err := w.store.SeenArticles(ctx, sub.ID, selFrom)
	if err != nil {
		return err
	}
	isNew := func(a digest.Article) bool {
		at := a.Published
		if at.IsZero() {
			at = a.Fetched
		}
		return !at.Before(subFrom) || (!sub.LastDelivered.IsZero() && !a.Fetched.Before(sub.LastDelivered))
	}
	fresh := digest.WhatsNew(stories, seen, isNew)
	memo := briefingKey(subFrom, fresh)
	br, ok := written[memo]
	if !ok {
		if opts.Budget, err = briefingBudget(ctx, w.cfg, w.store, j.GuildID, w.now()); err != nil {
			return err
		}
		br, err = w.svc.builder.Write(withGuild(ctx, j.GuildID), digest.Selection{Topic: topic, Query: topic.Query, From: subFrom, To: j.Slot}, fresh, countArticles(fresh), opts)
		if err != nil {
			return err
		}
		w.metrics.briefing(triggerSchedule, br)
		written[memo] = br
	}
	d, existed, err := w.bot.Record(ctx, sub, j.Slot, br)
	if err != nil {
		return err
	}
	if !existed && d.State == digest.DeliveryDone {
		w.metrics.delivery(deliverySkipped) // nothing new, and silence asked for
	}
	return q.EnqueueDeliver(ctx, digest.DeliverJob{SubscriptionID: sub.ID, Slot: j.Slot})
}

// failSlot records a subscription's slot as failed with a reason, so it
// is neither posted late nor silently missing.
func (w *work) failSlot(ctx context.Context, sub digest.Subscription, slot time.Time, reason string) {
	now := w.now()
	key := slotKey(sub, slot)
	w.log.Error("slot given up", "subscription", sub.ID, "delivery", key, "error", reason)
	_, existed, err := w.store.StartDelivery(ctx, digest.Delivery{Key: key, SubscriptionID: sub.ID, ChannelID: sub.ChannelID, Slot: slot,
		State: digest.DeliveryFailed, Error: reason, CreatedAt: now, UpdatedAt: now})
	switch {
	case err != nil:
		w.log.Error("record failed slot", "delivery", key, "error", err)
	case !existed:
		w.metrics.delivery(deliveryFailed)
	}
}

// requeuePending queues again the posting of deliveries recorded but not
// finished. Enqueueing is idempotent, so a
// delivery whose job is alive is not doubled; one whose job is gone (a
// database copied by briefbot migrate) is posted.
func (w *work) requeuePending(ctx context.Context, q digest.Queue) error {
	// All of them: Deliver gives up those past the catch-up window.
	pending, err := w.store.PendingDeliveries(ctx, time.Time{})
	if err != nil {
		return err
	}
	for _, d := range pending {
		if err := q.EnqueueDeliver(ctx, digest.DeliverJob{SubscriptionID: d.SubscriptionID, Slot: d.Slot}); err != nil {
			return err
		}
	}
	if len(pending) > 0 {
		w.log.Info("pending deliveries queued again", "count", len(pending))
	}
	return nil
}

// Deliver posts a recorded slot. A delivery that cannot be posted within
// the catch-up window (Discord down all that time) is given up, so a
// channel is never sent a stale briefing hours late.
func (w *work) Deliver(ctx context.Context, j digest.DeliverJob, attempt int) error {
	sub, err := w.store.Subscription(ctx, j.SubscriptionID)
	if errors.Is(err, digest.ErrNotFound) {
		w.log.Info("delivery dropped: unsubscribed", "subscription", j.SubscriptionID, "slot", j.Slot)
		return nil
	}
	if err != nil {
		return err
	}
	key := slotKey(sub, j.Slot)
	switch late := w.now().Sub(j.Slot); {
	case sub.Paused:
		return w.giveUp(ctx, key, "subscription paused: "+sub.PauseReason)
	case late > max(w.cfg.Schedule.catchUpWindow, schedule.LateAfter):
		return w.giveUp(ctx, key, fmt.Sprintf("not posted within %s of its slot", w.cfg.Schedule.catchUpWindow))
	}
	pending := w.metrics != nil && w.pending(ctx, key)
	late := w.now().Sub(j.Slot) > schedule.LateAfter // as Post decides it
	err = w.bot.Post(ctx, sub, j.Slot)
	if errors.Is(err, digest.ErrNotFound) {
		w.log.Error("delivery job without a recorded delivery", "subscription", sub.ID, "slot", j.Slot)
		return nil
	}
	if err == nil && pending {
		w.countDelivery(ctx, key, late)
	}
	return err
}

// pending reports whether a delivery is recorded and not finished, so
// that only the Post that finishes it counts it.
func (w *work) pending(ctx context.Context, key string) bool {
	d, err := w.store.Delivery(ctx, key)
	return err == nil && d.State == digest.DeliveryPending
}

// countDelivery counts how a delivery that was pending has ended.
func (w *work) countDelivery(ctx context.Context, key string, late bool) {
	d, err := w.store.Delivery(ctx, key)
	switch {
	case err != nil:
		w.log.Warn("metrics: read delivery", "delivery", key, "error", err)
	case d.State == digest.DeliveryDone && late:
		w.metrics.delivery(deliveryLate)
	case d.State == digest.DeliveryDone:
		w.metrics.delivery(deliveryPosted)
	case d.State == digest.DeliveryFailed:
		w.metrics.delivery(deliveryFailed)
	}
}

// giveUp marks a pending delivery failed with a reason.
func (w *work) giveUp(ctx context.Context, key, reason string) error {
	d, err := w.store.Delivery(ctx, key)
	switch {
	case errors.Is(err, digest.ErrNotFound):
		return nil
	case err != nil:
		return err // retried: the delivery must not stay pending
	case d.State != digest.DeliveryPending:
		return nil
	}
	w.log.Warn("delivery given up", "delivery", key, "error", reason)
	if err := w.store.FinishDelivery(ctx, key, digest.DeliveryFailed, reason); err != nil {
		return err
	}
	w.metrics.delivery(deliveryFailed)
	return nil
}

// Notice posts a notice.
func (w *work) Notice(ctx context.Context, j digest.NoticeJob, attempt int) error {
	return w.bot.Notice(ctx, j.Key, j.ChannelID, j.Text)
}

// slotKey returns the delivery key of a subscription's slot. The tick
// checked the zone, so UTC is only a guard against a zone database
// changed since.
func slotKey(sub digest.Subscription, slot time.Time) string {
	loc, err := time.LoadLocation(sub.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	return digest.DeliveryKey(sub.ID, schedule.SlotKeyTime(slot, loc))
}

// briefingKey identifies what a briefing covers: its window start and
// the articles of each story, in order.
func briefingKey(from time.Time, stories []digest.Story) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", from.UnixMilli())
	for _, s := range stories {
		fmt.Fprintf(&b, "|%s:%t", s.ID, s.Update)
		for _, a := range s.Articles {
			b.WriteString("," + a.ID + ":" + a.ContentHash) // narrowed texts differ by what was seen
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

func countArticles(stories []digest.Story) int {
	n := 0
	for _, s := range stories {
		n += len(s.Articles)
	}
	return n
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

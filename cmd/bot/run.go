package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/discord"
	"github.com/briefbot/briefbot/schedule"
	"github.com/briefbot/briefbot/sources"
	"github.com/briefbot/briefbot/sqlstore"
	"github.com/spf13/cobra"
)

func (a *app) runCommand() *cobra.Command {
	var tick time.Duration
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the Discord bot: slash commands, source polling and scheduled briefings",
		Long: `Connect to Discord with DISCORD_TOKEN and serve the slash commands, poll
sources on their intervals, and post subscribed briefings when they are due.
Stops cleanly on SIGINT or SIGTERM. A rejected token stops it at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if tick < time.Second {
				return fmt.Errorf("bad --tick %s: want at least 1s", tick)
			}
			ctx := cmd.Context()
			log, err := a.logger()
			if err != nil {
				return err
			}
			cfg, store, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer store.Close()
			if cfg.DiscordToken == "" {
				return errNoToken
			}
			poller, err := newPoller(ctx, cfg, store, log, a.now)
			if err != nil {
				return err
			}
			builder, err := a.builder(cfg, store, log)
			if err != nil {
				return err
			}
			svc := &service{cfg: cfg, store: store, poller: poller, builder: builder, now: a.now, log: log, minInterval: cfg.Schedule.minInterval}
			bot, err := discord.New(discord.Config{
				Token: cfg.DiscordToken, APIURL: cfg.Discord.APIURL, GuildID: cfg.Discord.GuildID,
				MaxTopics: cfg.Discord.MaxTopics, MaxSources: cfg.Discord.MaxSources, MaxSubscriptions: cfg.Discord.MaxSubscriptions,
				Now: a.now,
			}, store, svc, log)
			if err != nil {
				return err
			}

			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				every(ctx, tick, func() { a.pollDue(ctx, store, poller, log) })
			}()
			go func() {
				defer wg.Done()
				every(ctx, tick, func() { a.deliverDue(ctx, store, bot, log, cfg.Schedule.minInterval, cfg.Schedule.catchUpWindow) })
			}()
			err = bot.Run(ctx)
			cancel()
			wg.Wait()
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	cmd.Flags().DurationVar(&tick, "tick", 30*time.Second, "how often to look for due sources and briefings")
	return cmd
}

// every runs f now and then every d until ctx is done. A panic in f is
// logged by f's caller's recover, not here: f must not panic.
func every(ctx context.Context, d time.Duration, f func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		f()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// pollDue polls the sources whose next poll time has come.
func (a *app) pollDue(ctx context.Context, store *sqlstore.Store, poller *sources.Poller, log *slog.Logger) {
	defer recoverLog(log, "poll")
	srcs, err := store.Sources(ctx)
	if err != nil {
		log.Error("list sources", "error", err)
		return
	}
	var due []digest.Source
	for _, s := range srcs {
		if !s.State.Disabled && !s.State.NextPoll.After(a.now()) {
			due = append(due, s)
		}
	}
	for _, r := range poller.PollAll(ctx, due, false, nil) {
		if r.Status == sources.StatusFailed || r.Status == sources.StatusDisabled {
			log.Warn("poll failed", "source", r.Source, "status", r.Status, "error", r.Error)
		} else {
			log.Debug("polled", "source", r.Source, "status", r.Status, "article_count", r.New)
		}
	}
}

// deliverDue posts the briefings whose slot has come, once each (see
// schedule.Due: a slot missed during downtime is posted once, marked late,
// if it is less than window late under policy "late", else skipped; the
// next slot is always after now, so downtime never causes a burst).
func (a *app) deliverDue(ctx context.Context, store *sqlstore.Store, bot *discord.Bot, log *slog.Logger, minInterval, window time.Duration) {
	defer recoverLog(log, "deliver")
	now := a.now()
	subs, err := store.DueSubscriptions(ctx, now)
	if err != nil {
		log.Error("list due subscriptions", "error", err)
		return
	}
	for _, sub := range subs {
		sch, err := schedule.ParseWith(sub.Schedule, sub.TimeZone, schedule.ParseOptions{MinInterval: minInterval})
		if err != nil {
			sub.Paused, sub.PauseReason = true, "bad schedule: "+err.Error()
			if err := store.UpdateSubscription(ctx, sub); err != nil {
				log.Error("pause subscription", "subscription", sub.ID, "error", err)
			}
			continue
		}
		dec := schedule.Due(sch, sub.NextSlot, now, sub.CatchUp, window)
		if dec.Post {
			if err := bot.Deliver(ctx, &sub, dec.Slot, dec.Late); err != nil {
				// Not advanced: the next tick tries the same slot again,
				// and the delivery record keeps it from doubling.
				log.Error("deliver briefing", "subscription", sub.ID, "channel_id", sub.ChannelID, "error", err)
				continue
			}
		} else if !sub.NextSlot.After(now) {
			log.Info("missed slot skipped", "subscription", sub.ID, "slot", sub.NextSlot)
		}
		sub.NextSlot = dec.Next
		if err := store.UpdateSubscription(ctx, sub); err != nil {
			log.Error("advance subscription", "subscription", sub.ID, "error", err)
		}
	}
}

func recoverLog(log *slog.Logger, what string) {
	if r := recover(); r != nil {
		log.Error(what+" panicked", "error", r)
	}
}

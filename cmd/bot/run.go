package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/briefbot/briefbot/discord"
	"github.com/briefbot/briefbot/jobs"
	"github.com/briefbot/briefbot/schedule"
	"github.com/briefbot/briefbot/sqlstore"
	"github.com/spf13/cobra"
)

func (a *app) runCommand() *cobra.Command {
	var tick time.Duration
	var interactionsAddr string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the Discord bot: slash commands, source polling and scheduled briefings",
		Long: `Connect to Discord with DISCORD_TOKEN and serve the slash commands, poll
sources on their intervals, and post subscribed briefings when they are due.
Work is kept in durable jobs in the database, so a restart resumes it.
Stops on SIGINT or SIGTERM after running jobs finish (at most
jobs.drain_timeout). A rejected token stops it at once.

With --interactions-addr it serves Discord's Interactions Endpoint URL on
that address instead of taking interactions from the gateway (set
DISCORD_PUBLIC_KEY); replicas in this mode hold no gateway session and may
sit behind a load balancer.`,
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
			if interactionsAddr != "" && cfg.DiscordPublicKey == "" {
				return errors.New("--interactions-addr needs DISCORD_PUBLIC_KEY, the application's public key (Discord Developer Portal → General Information), to verify Discord's requests")
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
				Now: a.now, LateAfter: schedule.LateAfter,
				ShardID: cfg.Discord.ShardID, ShardCount: cfg.Discord.ShardCount, PublicKey: cfg.DiscordPublicKey,
			}, store, svc, log)
			if err != nil {
				return err
			}

			w := &work{cfg: cfg, store: store, poller: poller, svc: svc, bot: bot, now: a.now, log: log}
			queue, err := openQueue(ctx, cfg, store, w, tick, log)
			if err != nil {
				return err
			}
			if err := w.requeuePending(ctx, queue); err != nil {
				queue.Stop(0)
				return err
			}
			// Jobs get a context that shutdown does not cancel: Stop
			// drains them first.
			if err := queue.Start(context.WithoutCancel(ctx)); err != nil {
				queue.Stop(0)
				return err
			}
			if interactionsAddr != "" {
				var ln net.Listener
				if ln, err = net.Listen("tcp", interactionsAddr); err != nil {
					err = fmt.Errorf("--interactions-addr: %w", err)
				} else {
					log.Info("serving HTTP interactions", "addr", ln.Addr().String())
					err = bot.Serve(ctx, ln)
				}
			} else {
				err = bot.Run(ctx)
			}
			if stopErr := queue.Stop(cfg.Jobs.drainTimeout); stopErr != nil {
				log.Error("stop jobs", "error", stopErr)
			}
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	cmd.Flags().DurationVar(&tick, "tick", 30*time.Second, "how often to look for due sources and briefings")
	cmd.Flags().StringVar(&interactionsAddr, "interactions-addr", "", "serve Discord's interactions endpoint on this address (e.g. :8080) instead of using the gateway")
	return cmd
}

// openQueue opens the job queue on the configured database: River on the
// store's SQLite file (a pool of its own), or on PostgreSQL.
func openQueue(ctx context.Context, cfg *Config, store *sqlstore.Store, w *work, tick time.Duration, log *slog.Logger) (*jobs.Queue, error) {
	qcfg := jobs.Config{Tick: tick, Polls: cfg.Fetch.Concurrency, RescueAfter: cfg.Jobs.rescueAfter, Log: log}
	if isPostgres(cfg.Database) {
		return jobs.NewPostgres(ctx, cfg.Database, w, qcfg)
	}
	db, shared, err := store.JobsDB(ctx)
	if err != nil {
		return nil, err
	}
	closeDB := func() {
		if !shared {
			db.Close()
		}
	}
	if err := jobs.Migrate(ctx, db); err != nil {
		closeDB()
		return nil, err
	}
	q, err := jobs.New(db, w, qcfg)
	if err != nil {
		closeDB()
		return nil, err
	}
	q.OnStop(closeDB)
	return q, nil
}

// isPostgres reports whether a database setting names PostgreSQL.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

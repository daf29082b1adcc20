package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/briefbot/briefbot/discord"
	"github.com/briefbot/briefbot/jobs"
	"github.com/briefbot/briefbot/schedule"
	"github.com/briefbot/briefbot/sqlstore"
	"github.com/spf13/cobra"
)

func (a *app) runCommand() *cobra.Command {
	var tick time.Duration
	var interactionsAddr, httpAddr string
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
sit behind a load balancer.

With --http-addr (or $BRIEFBOT_HTTP_ADDR) it serves, on that address,
/healthz (200 while the process runs), /readyz (200 when the database
answers, the gateway session is up and the job queue runs; else 503 with
a line per failing check) and /metrics (Prometheus).`,
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
			if !cmd.Flags().Changed("http-addr") {
				httpAddr = strings.TrimSpace(a.getenv(httpAddrEnv))
			}
			if httpAddr != "" && httpAddr == interactionsAddr {
				return errors.New("--http-addr and --interactions-addr must differ: health and metrics are served apart from Discord's interactions")
			}
			var m *metrics
			if httpAddr != "" {
				m = newMetrics(shortVersion(), cfg.LLM.InputPrice, cfg.LLM.OutputPrice)
				a.alsoOnLLMCall(m.llmCall)
			}
			a.recordLLMUsage(ctx, cfg, store, log)
			poller, err := newPoller(ctx, cfg, store, log, a.now)
			if err != nil {
				return err
			}
			builder, err := a.builder(cfg, store, log)
			if err != nil {
				return err
			}
			svc := &service{cfg: cfg, store: store, poller: poller, builder: builder, now: a.now, log: log, minInterval: cfg.Schedule.minInterval}
			var dsvc discord.Service = svc
			dcfg := discord.Config{
				Token: cfg.DiscordToken, APIURL: cfg.Discord.APIURL, GuildID: cfg.Discord.GuildID,
				MaxTopics: cfg.Discord.MaxTopics, MaxSources: cfg.Discord.MaxSources, MaxSubscriptions: cfg.Discord.MaxSubscriptions,
				Now: a.now, LateAfter: schedule.LateAfter,
				ShardID: cfg.Discord.ShardID, ShardCount: cfg.Discord.ShardCount, PublicKey: cfg.DiscordPublicKey,
			}
			var onJobStart func(string, time.Duration)
			if m != nil {
				if builder.LLM != nil {
					builder.LLM = countingSummarizer{builder.LLM, m}
				}
				dsvc = countingService{svc, m}
				dcfg.OnRateLimit = m.rateLimit
				onJobStart = m.jobStarted
			}
			bot, err := discord.New(dcfg, store, dsvc, log)
			if err != nil {
				return err
			}

			w := &work{cfg: cfg, store: store, poller: poller, svc: svc, bot: bot, now: a.now, log: log, metrics: m}
			queue, err := openQueue(ctx, cfg, store, w, tick, onJobStart, log)
			if err != nil {
				return err
			}
			var queueRunning atomic.Bool
			if m != nil {
				ops, err := listenOps(ctx, httpAddr, m, opsChecks(ctx, store, bot, interactionsAddr == "", &queueRunning),
					secretScrubber(cfg.DiscordToken, cfg.OpenAIKey, cfg.Database, dbPassword(cfg.Database)), log)
				if err != nil {
					queue.Stop(0)
					return err
				}
				m.watchQueue(context.WithoutCancel(ctx), queue.Counts, log)
				if interactionsAddr == "" {
					m.watchGateway(bot)
				}
				defer func() {
					if err := ops.stop(ctx); err != nil {
						log.Error("stop health and metrics server", "error", err)
					}
				}()
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
			queueRunning.Store(true)
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
			queueRunning.Store(false)
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
	cmd.Flags().StringVar(&httpAddr, "http-addr", "", "serve /healthz, /readyz and /metrics on this address, e.g. 127.0.0.1:9090 (default $"+httpAddrEnv+"; off when empty)")
	return cmd
}

// openQueue opens the job queue on the configured database: River on the
// store's SQLite file (a pool of its own), or on PostgreSQL.
func openQueue(ctx context.Context, cfg *Config, store *sqlstore.Store, w *work, tick time.Duration, onStart func(string, time.Duration), log *slog.Logger) (*jobs.Queue, error) {
	qcfg := jobs.Config{Tick: tick, Polls: cfg.Fetch.Concurrency, RescueAfter: cfg.Jobs.rescueAfter, Log: log, OnStart: onStart}
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

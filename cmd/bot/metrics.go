package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/discord"
	"github.com/briefbot/briefbot/llm"
	"github.com/briefbot/briefbot/sources"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the Prometheus metrics of `briefbot run`, on a registry
// of their own (with the Go runtime's and the process's). Every method
// does nothing on a nil *metrics, so work and service run without them.
type metrics struct {
	reg *prometheus.Registry

	polls         *prometheus.CounterVec
	pollDuration  prometheus.Histogram
	articles      prometheus.Counter
	briefings     *prometheus.CounterVec
	stories       prometheus.Histogram
	llmCalls      *prometheus.CounterVec
	llmDuration   prometheus.Histogram
	llmTokens     *prometheus.CounterVec
	llmCost       prometheus.Counter
	llmFallbacks  *prometheus.CounterVec
	deliveries    *prometheus.CounterVec
	rateLimits    prometheus.Counter
	rateLimitWait prometheus.Counter
	jobLatency    *prometheus.HistogramVec

	// inputPrice and outputPrice are US dollars per million prompt and
	// completion tokens (llm.input_price_per_million…).
	inputPrice, outputPrice float64
}

// Label values. They are part of the metrics' interface: do not rename.
const (
	// briefbot_briefings_built_total{trigger}
	triggerSchedule = "schedule" // a subscription's slot
	triggerCommand  = "command"  // /brief

	// briefbot_deliveries_total{outcome}
	deliveryPosted  = "posted"  // posted on time
	deliveryLate    = "late"    // posted, later than schedule.LateAfter after its slot
	deliveryFailed  = "failed"  // refused by Discord, or given up (paused, too late, not built in time)
	deliverySkipped = "skipped" // nothing new, and the channel asked for silence
)

// pollOutcomes are the values of briefbot_polls_total{outcome}: the
// sources.Status of a poll, except that a failed poll that disabled its
// source counts as "disabled".
var pollOutcomes = []sources.Status{sources.StatusNew, sources.StatusUpdated, sources.StatusUnchanged,
	sources.StatusFailed, sources.StatusWaiting, sources.StatusDisabled}

// fallback reasons, the values of briefbot_llm_fallbacks_total{reason}.
const (
	fallbackBudget      = "budget_spent"
	fallbackTimeout     = "timeout"
	fallbackUnavailable = "unavailable" // 429, 5xx, network: digest.ErrTransient
	fallbackFailed      = "failed"      // any other error, or no usable bullet
)

// newMetrics returns the metrics of a run; inputPrice and outputPrice
// (US dollars per million prompt and completion tokens, 0 if unknown)
// make the cost estimate.
func newMetrics(version string, inputPrice, outputPrice float64) *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m := &metrics{
		reg: reg, inputPrice: inputPrice, outputPrice: outputPrice,
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefbot_polls_total",
			Help: "Source polls by outcome: new, updated, unchanged, failed, waiting (backing off), disabled (the failure that disabled the source).",
		}, []string{"outcome"}),
		pollDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "briefbot_poll_duration_seconds",
			Help:    "How long a source poll took: feed, article pages and storage.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}),
		articles: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "briefbot_articles_ingested_total",
			Help: "New articles stored by polls.",
		}),
		briefings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefbot_briefings_built_total",
			Help: "Briefings written, by trigger: schedule (once per distinct briefing of a slot, however many channels get it) or command (/brief).",
		}, []string{"trigger"}),
		stories: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "briefbot_briefing_stories",
			Help:    "Stories in each briefing built (articles clustered, ranked and capped).",
			Buckets: []float64{0, 1, 2, 3, 4, 5, 6, 8},
		}),
		llmCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefbot_llm_calls_total",
			Help: "Chat completion requests to the language model, retries included, by outcome: ok, rate_limited, server_error, timeout, error.",
		}, []string{"outcome"}),
		llmDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "briefbot_llm_call_duration_seconds",
			Help:    "How long a chat completion request took, whatever its outcome.",
			Buckets: []float64{0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120},
		}),
		llmTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefbot_llm_tokens_total",
			Help: "Tokens the language model server reported using, by kind: prompt or completion.",
		}, []string{"kind"}),
		llmCost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "briefbot_llm_cost_usd_total",
			Help: "Estimated cost, in US dollars, of the tokens the language model server reported, at llm.input_price_per_million and llm.output_price_per_million (0 when they are not set).",
		}),
		llmFallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefbot_llm_fallbacks_total",
			Help: "Stories summarized by the extractive summarizer because the language model could not, by reason: budget_spent, timeout, unavailable, failed.",
		}, []string{"reason"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "briefbot_deliveries_total",
			Help: "Scheduled briefing deliveries finished, by outcome: posted, late (posted late), failed, skipped (nothing new, silence asked for).",
		}, []string{"outcome"}),
		rateLimits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "briefbot_discord_rate_limits_total",
			Help: "429 answers from Discord's REST API; each request is retried after the wait Discord asks for.",
		}),
		rateLimitWait: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "briefbot_discord_rate_limit_wait_seconds_total",
			Help: "Time spent waiting out Discord's 429 answers.",
		}),
		jobLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "briefbot_job_latency_seconds",
			Help:    "How long a job attempt waited from when it was due (enqueued, or its retry time) to when it started, by kind.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900},
		}, []string{"kind"}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "briefbot_build_info",
		Help:        "Always 1; the version label is briefbot's version.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	reg.MustRegister(m.polls, m.pollDuration, m.articles, m.briefings, m.stories, m.llmCalls, m.llmDuration,
		m.llmTokens, m.llmCost, m.llmFallbacks, m.deliveries, m.rateLimits, m.rateLimitWait, m.jobLatency, build)
	// Every label value shows from the start, at 0, so that rates and
	// alerts need no "or vector(0)".
	for _, o := range pollOutcomes {
		m.polls.WithLabelValues(string(o))
	}
	for _, t := range []string{triggerSchedule, triggerCommand} {
		m.briefings.WithLabelValues(t)
	}
	for _, o := range []string{llm.CallOK, llm.CallRateLimited, llm.CallServerError, llm.CallTimeout, llm.CallError} {
		m.llmCalls.WithLabelValues(o)
	}
	for _, k := range []string{"prompt", "completion"} {
		m.llmTokens.WithLabelValues(k)
	}
	for _, r := range []string{fallbackBudget, fallbackTimeout, fallbackUnavailable, fallbackFailed} {
		m.llmFallbacks.WithLabelValues(r)
	}
	for _, o := range []string{deliveryPosted, deliveryLate, deliveryFailed, deliverySkipped} {
		m.deliveries.WithLabelValues(o)
	}
	return m
}

// poll counts one poll; disabled says whether it disabled its source.
func (m *metrics) poll(res sources.PollResult, disabled bool) {
	if m == nil {
		return
	}
	outcome := res.Status
	if disabled && outcome == sources.StatusFailed {
		outcome = sources.StatusDisabled
	}
	m.polls.WithLabelValues(string(outcome)).Inc()
	m.pollDuration.Observe(res.Duration.Seconds())
	m.articles.Add(float64(res.New))
}

// briefing counts a briefing written.
func (m *metrics) briefing(trigger string, br digest.Briefing) {
	if m == nil {
		return
	}
	m.briefings.WithLabelValues(trigger).Inc()
	m.stories.Observe(float64(len(br.Stories)))
}

// llmCall counts one chat completion request (llm.Config.OnCall).
func (m *metrics) llmCall(_ context.Context, c llm.Call) {
	if m == nil {
		return
	}
	m.llmCalls.WithLabelValues(c.Outcome).Inc()
	m.llmDuration.Observe(c.Duration.Seconds())
	m.llmTokens.WithLabelValues("prompt").Add(float64(c.PromptTokens))
	m.llmTokens.WithLabelValues("completion").Add(float64(c.CompletionTokens))
	m.llmCost.Add(cost(c.PromptTokens, c.CompletionTokens, m.inputPrice, m.outputPrice))
}

// fallback counts a story the language model did not summarize.
func (m *metrics) fallback(err error) {
	if m == nil {
		return
	}
	reason := fallbackFailed
	switch {
	case errors.Is(err, digest.ErrBudgetSpent):
		reason = fallbackBudget
	case errors.Is(err, context.DeadlineExceeded):
		reason = fallbackTimeout
	case errors.Is(err, digest.ErrTransient):
		reason = fallbackUnavailable
	}
	m.llmFallbacks.WithLabelValues(reason).Inc()
}

// delivery counts a finished delivery.
func (m *metrics) delivery(outcome string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(outcome).Inc()
}

// rateLimit counts a 429 from Discord (discord.Config.OnRateLimit).
func (m *metrics) rateLimit(wait time.Duration) {
	if m == nil {
		return
	}
	m.rateLimits.Inc()
	m.rateLimitWait.Add(wait.Seconds())
}

// jobStarted observes a job attempt's wait (jobs.Config.OnStart).
func (m *metrics) jobStarted(kind string, wait time.Duration) {
	if m == nil {
		return
	}
	m.jobLatency.WithLabelValues(kind).Observe(wait.Seconds())
}

// watchQueue adds briefbot_job_queue_depth, read from counts (the job
// queue's Counts) at each scrape, with ctx bounding each read.
func (m *metrics) watchQueue(ctx context.Context, counts func(context.Context) (map[string]map[string]int, error), log *slog.Logger) {
	m.reg.MustRegister(&queueCollector{
		ctx:    ctx,
		counts: counts,
		log:    log,
		desc: prometheus.NewDesc("briefbot_job_queue_depth",
			"Jobs in the queue by kind and state (available, scheduled, retryable, running, pending; and completed, cancelled, discarded, kept a while), read at each scrape.",
			[]string{"kind", "state"}, nil),
	})
}

// watchGateway adds briefbot_discord_gateway_connected, 1 while the bot's
// gateway session is up.
func (m *metrics) watchGateway(bot *discord.Bot) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "briefbot_discord_gateway_connected",
		Help: "1 while the Discord gateway session is up, else 0.",
	}, func() float64 {
		if bot.Connected() {
			return 1
		}
		return 0
	}))
}

// queueCollector reports the job queue's counts at each scrape.
type queueCollector struct {
	ctx    context.Context
	counts func(context.Context) (map[string]map[string]int, error)
	log    *slog.Logger
	desc   *prometheus.Desc
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	counts, err := c.counts(ctx)
	if err != nil {
		c.log.Warn("metrics: job queue depth", "error", err)
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for kind, states := range counts {
		for state, n := range states {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), kind, state)
		}
	}
}

// countingService is the discord.Service of `briefbot run`: the service,
// with each /brief briefing counted.
type countingService struct {
	*service
	m *metrics
}

func (s countingService) Brief(ctx context.Context, req discord.BriefRequest, progress func(string)) (digest.Briefing, error) {
	br, err := s.service.Brief(ctx, req, progress)
	if err == nil {
		s.m.briefing(triggerCommand, br)
	}
	return br, err
}

// countingSummarizer is the language model of `briefbot run`'s builder,
// with each story it could not summarize counted as a fallback (the
// builder then summarizes it extractively).
type countingSummarizer struct {
	digest.Summarizer
	m *metrics
}

func (s countingSummarizer) Summarize(ctx context.Context, req digest.SummaryRequest) (digest.Summary, error) {
	sum, err := s.Summarizer.Summarize(ctx, req)
	if ctx.Err() == nil && (err != nil || len(sum.Bullets) == 0) {
		s.m.fallback(err)
	}
	return sum, err
}

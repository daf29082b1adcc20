package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/discord"
	"github.com/briefbot/briefbot/schedule"
	"github.com/briefbot/briefbot/sources"
	"github.com/briefbot/briefbot/sqlstore"
)

// service implements discord.Service with the digest pipeline, the
// poller and the schedule package.
type service struct {
	cfg     *Config
	store   *sqlstore.Store
	poller  *sources.Poller
	builder *digest.Builder
	now     func() time.Time
	log     *slog.Logger
	// minInterval is the shortest time between a schedule's slots.
	minInterval time.Duration
}

var _ discord.Service = (*service)(nil)

// Brief builds a briefing of a guild-visible topic or a query.
func (s *service) Brief(ctx context.Context, req discord.BriefRequest, progress func(string)) (digest.Briefing, error) {
	to := req.To
	if to.IsZero() {
		to = s.now()
	}
	sel := digest.Selection{Query: req.Query, From: to.Add(-req.Since), To: to}
	if req.Topic != "" {
		t, err := s.store.Topic(ctx, req.Topic)
		if err != nil || (t.GuildID != "" && t.GuildID != req.GuildID) {
			return digest.Briefing{}, fmt.Errorf("topic %q: %w", req.Topic, digest.ErrNotFound)
		}
		sel.Topic, sel.Query = &t, t.Query
	}
	arts, srcs, err := s.selectVisible(ctx, req.GuildID, sel)
	if err != nil {
		return digest.Briefing{}, err
	}
	if progress != nil {
		outlets := map[string]bool{}
		for _, a := range arts {
			outlets[a.Outlet] = true
		}
		progress(fmt.Sprintf("Reading %s from %s…", plural(len(arts), "article"), plural(len(outlets), "source")))
	}
	budget, err := briefingBudget(ctx, s.cfg, s.store, req.GuildID, to)
	if err != nil {
		return digest.Briefing{}, err
	}
	br, err := s.builder.Build(withGuild(ctx, req.GuildID), sel, arts, digest.BriefOptions{
		MaxStories: 6, Language: req.Language, Budget: budget,
	})
	if err != nil {
		return br, err
	}
	if len(br.Stories) == 0 {
		for _, src := range srcs {
			if src.GuildID == "" || src.GuildID == req.GuildID {
				searched(&br, src)
			}
		}
	}
	return br, nil
}

// selectVisible selects a briefing's articles among those a guild may
// see: a guild's own sources feed only its briefings. It also returns
// every source.
func (s *service) selectVisible(ctx context.Context, guildID string, sel digest.Selection) ([]digest.Article, []digest.Source, error) {
	arts, err := digest.SelectArticles(ctx, s.store, sel)
	if err != nil {
		return nil, nil, err
	}
	srcs, err := s.store.Sources(ctx)
	if err != nil {
		return nil, nil, err
	}
	visible := make(map[int64]bool, len(srcs))
	for _, src := range srcs {
		visible[src.ID] = src.GuildID == "" || src.GuildID == guildID
	}
	arts = slices.DeleteFunc(arts, func(a digest.Article) bool { return !visible[a.SourceID] })
	return arts, srcs, nil
}

// AddTopic stores a chat-added topic and matches stored articles to it.
func (s *service) AddTopic(ctx context.Context, t digest.Topic) (int, error) {
	if _, err := digest.ParseQuery(t.Query); err != nil {
		return 0, err
	}
	if _, err := s.store.AddTopic(ctx, t); err != nil {
		return 0, err
	}
	return rematch(ctx, s.store, t.Name, s.now())
}

// AddSource checks a chat-added feed through the SSRF guard, then stores
// it. Problems the user can fix come back as *discord.UserError; the
// details of others (and the addresses names resolve to) stay in the log.
func (s *service) AddSource(ctx context.Context, src digest.Source) (digest.Source, error) {
	if err := checkHTTPURL(src.URL); err != nil {
		return src, &discord.UserError{Msg: "That is not a feed URL: give an absolute http:// or https:// address."}
	}
	feed, err := s.poller.Check(ctx, src.URL, false)
	if err != nil {
		return src, sourceUserError(err)
	}
	if src.Name == "" {
		src.Name = suggestName(feed.Title, src.URL)
	}
	if src.Interval == 0 {
		src.Interval = s.cfg.Fetch.interval
	}
	src.AllowPrivate = false
	return s.store.AddSource(ctx, src)
}

// NextSlot validates a schedule and returns its next slot after a time.
func (s *service) NextSlot(spec, zone string, after time.Time) (time.Time, string, error) {
	sch, err := schedule.ParseWith(spec, zone, schedule.ParseOptions{MinInterval: s.minInterval})
	if err != nil {
		return time.Time{}, "", err
	}
	return sch.Next(after), schedule.Describe(sch), nil
}

// sourceUserError turns a feed check's failure into a reply for the user,
// wrapping the original so callers can still inspect it.
func sourceUserError(err error) error {
	var msg string
	var fe *sources.FetchError
	switch {
	case errors.Is(err, sources.ErrForbiddenAddress):
		msg = "That address points to a private or local network, which briefbot does not fetch for chat users."
	case errors.Is(err, sources.ErrNotFeed):
		msg = "That is not an RSS, Atom or JSON feed. Look for the site's feed link (often /feed, /rss or /rss.xml)."
	case errors.Is(err, sources.ErrBodyTooLarge):
		msg = "That feed is too large for briefbot."
	case errors.As(err, &fe) && fe.StatusCode != 0:
		msg = fmt.Sprintf("The site answered %d %s; check the URL.", fe.StatusCode, http.StatusText(fe.StatusCode))
	case errors.Is(err, digest.ErrTransient):
		msg = "The site could not be reached right now; try again later."
	default:
		return err
	}
	return &userFacing{msg: msg, err: err}
}

// userFacing is a discord.UserError that keeps its cause.
type userFacing struct {
	msg string
	err error
}

func (e *userFacing) Error() string { return e.msg }
func (e *userFacing) Unwrap() error { return e.err }
func (e *userFacing) As(target any) bool {
	if t, ok := target.(**discord.UserError); ok {
		*t = &discord.UserError{Msg: e.msg}
		return true
	}
	return false
}

// errNoToken explains what `run` needs.
var errNoToken = errors.New("DISCORD_TOKEN is not set: create an application at https://discord.com/developers/applications, add a bot, and export its token (see README, \"Discord\" → \"Setup\")")

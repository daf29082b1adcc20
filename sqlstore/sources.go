package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/briefbot/briefbot/digest"
)

// sourceColumns lists the columns scanSource reads, in order.
const sourceColumns = `id, name, url, interval_seconds, allow_private, origin, guild_id, created_at,
	etag, last_modified, next_poll, last_poll, last_success, failures, last_error, disabled`

// scanSource reads one row of sourceColumns.
func scanSource(row interface{ Scan(...any) error }) (digest.Source, error) {
	var (
		src                                   digest.Source
		interval                              int64
		origin                                string
		created, nextPoll, lastPoll, lastSucc sql.NullInt64
	)
	err := row.Scan(&src.ID, &src.Name, &src.URL, &interval, &src.AllowPrivate, &origin, &src.GuildID, &created,
		&src.State.ETag, &src.State.LastModified, &nextPoll, &lastPoll, &lastSucc,
		&src.State.Failures, &src.State.LastError, &src.State.Disabled)
	if err != nil {
		return digest.Source{}, err
	}
	src.Interval = time.Duration(interval) * time.Second
	src.Origin = digest.Origin(origin)
	src.CreatedAt = fromMillis(created)
	src.State.NextPoll = fromMillis(nextPoll)
	src.State.LastPoll = fromMillis(lastPoll)
	src.State.LastSuccess = fromMillis(lastSucc)
	return src, nil
}

// Sources returns every source, ordered by name.
func (s *Store) Sources(ctx context.Context) ([]digest.Source, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list sources: %w", err)
	}
	defer rows.Close()
	var out []digest.Source
	for rows.Next() {
		src, err := scanSource(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list sources: %w", err)
		}
		out = append(out, src)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list sources: %w", err)
	}
	return out, nil
}

// Source returns the source with the given name, or an error wrapping
// digest.ErrNotFound.
func (s *Store) Source(ctx context.Context, name string) (digest.Source, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE name = $1`, name)
	src, err := scanSource(row)
	switch {
	case errNoRows(err):
		return digest.Source{}, fmt.Errorf("sqlstore: source %q: %w", name, digest.ErrNotFound)
	case err != nil:
		return digest.Source{}, fmt.Errorf("sqlstore: source %q: %w", name, err)
	}
	return src, nil
}

// SourceByID returns the source with the given ID, or an error wrapping
// digest.ErrNotFound.
func (s *Store) SourceByID(ctx context.Context, id int64) (digest.Source, error) {
	src, err := scanSource(s.db.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE id = $1`, id))
	switch {
	case errNoRows(err):
		return digest.Source{}, fmt.Errorf("sqlstore: source id %d: %w", id, digest.ErrNotFound)
	case err != nil:
		return digest.Source{}, fmt.Errorf("sqlstore: source id %d: %w", id, err)
	}
	return src, nil
}

// AddSource stores a new source, fetch state included, and returns it as
// stored: with its ID set (any ID given is ignored), CreatedAt set to Now if
// it was zero, and times at millisecond precision in UTC. A source with the
// same name or URL yields an error wrapping digest.ErrExists.
func (s *Store) AddSource(ctx context.Context, src digest.Source) (digest.Source, error) {
	if src.Name == "" {
		return digest.Source{}, fmt.Errorf("sqlstore: add source with url %q: empty name", src.URL)
	}
	if src.URL == "" {
		return digest.Source{}, fmt.Errorf("sqlstore: add source %q: empty url", src.Name)
	}
	if src.CreatedAt.IsZero() {
		src.CreatedAt = s.Now()
	}
	src = normalSource(src)
	st := src.State
	err := s.db.QueryRowContext(ctx, `INSERT INTO sources (
			name, url, interval_seconds, allow_private, origin, guild_id, created_at,
			etag, last_modified, next_poll, last_poll, last_success, failures, last_error, disabled
		) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		RETURNING id`,
		src.Name, src.URL, int64(src.Interval/time.Second), flag(src.AllowPrivate), string(src.Origin), src.GuildID,
		millis(src.CreatedAt),
		st.ETag, st.LastModified, millis(st.NextPoll), millis(st.LastPoll), millis(st.LastSuccess),
		st.Failures, st.LastError, flag(st.Disabled),
	).Scan(&src.ID)
	if err != nil {
		if s.dialect.classify(err) == uniqueViolation {
			return digest.Source{}, s.addConflict(ctx, src)
		}
		return digest.Source{}, fmt.Errorf("sqlstore: add source %q: %w", src.Name, err)
	}
	return src, nil
}

// addConflict explains a unique violation adding src: whether its name is
// taken, or which source has its URL.
func (s *Store) addConflict(ctx context.Context, src digest.Source) error {
	var taken bool
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sources WHERE name = $1)`, src.Name).Scan(&taken)
	if err != nil || taken {
		return fmt.Errorf("sqlstore: source %q: %w", src.Name, digest.ErrExists)
	}
	return s.urlConflict(ctx, fmt.Sprintf("source %q", src.Name), src.URL, 0)
}

// urlConflict returns an error wrapping digest.ErrExists that names the
// source, other than the one with ID self, whose URL is url.
func (s *Store) urlConflict(ctx context.Context, what, url string, self int64) error {
	var owner string
	err := s.db.QueryRowContext(ctx, `SELECT name FROM sources WHERE url = $1 AND id <> $2`, url, self).Scan(&owner)
	if err != nil {
		// The conflicting source is already gone, or cannot be read.
		return fmt.Errorf("sqlstore: %s: its url: %w", what, digest.ErrExists)
	}
	// The URL itself is left out: it may carry credentials or tokens.
	return fmt.Errorf("sqlstore: %s: its url is used by source %q: %w", what, owner, digest.ErrExists)
}

// normalSource returns src as the database gives it back.
func normalSource(src digest.Source) digest.Source {
	src.Interval = src.Interval.Truncate(time.Second)
	src.CreatedAt = normalTime(src.CreatedAt)
	src.State.NextPoll = normalTime(src.State.NextPoll)
	src.State.LastPoll = normalTime(src.State.LastPoll)
	src.State.LastSuccess = normalTime(src.State.LastSuccess)
	return src
}

// UpdateSource changes the URL, Interval, AllowPrivate, Origin and GuildID
// of the source with src.ID; its name, creation time and fetch state stay.
// An unknown ID yields an error wrapping digest.ErrNotFound, a URL another
// source has one wrapping digest.ErrExists.
func (s *Store) UpdateSource(ctx context.Context, src digest.Source) error {
	if src.URL == "" {
		return fmt.Errorf("sqlstore: update source id %d: empty url", src.ID)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE sources
		SET url = $1, interval_seconds = $2, allow_private = $3, origin = $4, guild_id = $5
		WHERE id = $6`,
		src.URL, int64(src.Interval/time.Second), flag(src.AllowPrivate), string(src.Origin), src.GuildID, src.ID,
	)
	if err != nil {
		if s.dialect.classify(err) == uniqueViolation {
			return s.urlConflict(ctx, fmt.Sprintf("update source id %d", src.ID), src.URL, src.ID)
		}
		return fmt.Errorf("sqlstore: update source id %d: %w", src.ID, err)
	}
	return affectedOne(res, fmt.Sprintf("source id %d", src.ID))
}

// RemoveSource deletes the source with the given name. Its articles are
// kept, with SourceID 0. An unknown name yields an error wrapping
// digest.ErrNotFound.
func (s *Store) RemoveSource(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sources WHERE name = $1`, name)
	if err != nil {
		return fmt.Errorf("sqlstore: remove source %q: %w", name, err)
	}
	return affectedOne(res, fmt.Sprintf("source %q", name))
}

// SaveFetchState records the outcome of a poll of the source with the given
// ID. An unknown ID yields an error wrapping digest.ErrNotFound.
func (s *Store) SaveFetchState(ctx context.Context, sourceID int64, st digest.FetchState) error {
	res, err := s.db.ExecContext(ctx, `UPDATE sources
		SET etag = $1, last_modified = $2, next_poll = $3, last_poll = $4, last_success = $5,
			failures = $6, last_error = $7, disabled = $8
		WHERE id = $9`,
		st.ETag, st.LastModified, millis(st.NextPoll), millis(st.LastPoll), millis(st.LastSuccess),
		st.Failures, st.LastError, flag(st.Disabled), sourceID,
	)
	if err != nil {
		return fmt.Errorf("sqlstore: save fetch state of source id %d: %w", sourceID, err)
	}
	return affectedOne(res, fmt.Sprintf("source id %d", sourceID))
}

// affectedOne turns an UPDATE or DELETE that matched no row into an error
// wrapping digest.ErrNotFound.
func affectedOne(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: %s: %w", what, digest.ErrNotFound)
	}
	return nil
}

package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/briefbot/briefbot/digest"
)

// PendingDeliveries returns the subscription deliveries of slots at or
// after since that are recorded but not finished, oldest slot first: on
// start, their posting is queued again, in case the job that was to post
// them is gone (a database copied by Copy, say).
func (s *Store) PendingDeliveries(ctx context.Context, since time.Time) ([]digest.Delivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE state = 'pending' AND subscription_id IS NOT NULL AND slot >= $1 ORDER BY slot, key`, since.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("sqlstore: pending deliveries: %w", err)
	}
	defer rows.Close()
	var out []digest.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: pending deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: pending deliveries: %w", err)
	}
	return out, nil
}

// StartAttempt counts a start of posting the delivery with the given key
// and returns how many starts came before it: more than zero means an
// earlier attempt may have posted a part without recording it. An
// unknown key yields an error wrapping digest.ErrNotFound.
func (s *Store) StartAttempt(ctx context.Context, key string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `UPDATE deliveries SET attempts = attempts + 1 WHERE key = $1 RETURNING attempts - 1`, key).Scan(&n)
	switch {
	case errNoRows(err):
		return 0, fmt.Errorf("sqlstore: start attempt of delivery %q: %w", key, digest.ErrNotFound)
	case err != nil:
		return 0, fmt.Errorf("sqlstore: start attempt of delivery %q: %w", key, err)
	}
	return n, nil
}

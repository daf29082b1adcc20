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

package sqlstore

import (
	"context"
	"path/filepath"
	"testing"
)

func TestPing(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "ping.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("ping an open store: %v", err)
	}
	s.Close()
	if err := s.Ping(ctx); err == nil {
		t.Error("ping a closed store: no error")
	}
}

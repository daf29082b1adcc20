package sqlstore

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestLoadMigrations(t *testing.T) {
	file := func(body string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(body)} }
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    []int // versions; nil when an error is wanted
		wantErr bool
	}{
		{name: "none", fsys: fstest.MapFS{}, want: nil},
		{
			name: "sorted by number, not name",
			fsys: fstest.MapFS{"0002_b.sql": file("B"), "0001_z.sql": file("A"), "README.md": file("ignored")},
			want: []int{1, 2},
		},
		{name: "gap", fsys: fstest.MapFS{"0001_a.sql": file(""), "0003_c.sql": file("")}, wantErr: true},
		{name: "same version twice", fsys: fstest.MapFS{"0001_a.sql": file(""), "0001_b.sql": file("")}, wantErr: true},
		{name: "no number", fsys: fstest.MapFS{"init.sql": file("")}, wantErr: true},
		{name: "version zero", fsys: fstest.MapFS{"0000_init.sql": file("")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := loadMigrations(tt.fsys)
			if tt.wantErr {
				if err == nil {
					t.Errorf("loadMigrations: got %d migrations, want an error", len(ms))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.version)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("versions (-got +want):\n%s", diff)
			}
		})
	}
}

func TestEmbeddedMigrationsLoad(t *testing.T) {
	for _, d := range []dialect{sqliteDialect(), postgresDialect()} {
		t.Run(d.name, func(t *testing.T) {
			ms, err := loadMigrations(d.migrations)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 0 {
				t.Fatalf("no embedded %s migrations", d.name)
			}
			if ms[0].name != "0001_init.sql" {
				t.Errorf("first migration: got %q, want 0001_init.sql", ms[0].name)
			}
			for _, m := range ms {
				if strings.HasPrefix(m.sql, foreignKeysOff) && !d.foreignKeysOff {
					t.Errorf("%s: %s turns foreign keys off, which %s cannot", d.name, m.name, d.name)
				}
			}
		})
	}
}

// A SQLite-only marker in another dialect's migration is an error, not a
// PRAGMA sent to a database that has none.
func TestForeignKeysOffIsSQLiteOnly(t *testing.T) {
	d := postgresDialect()
	err := apply(t.Context(), nil, d, migration{version: 1, name: "0001_x.sql", sql: foreignKeysOff + "\nSELECT 1;"})
	if err == nil || !strings.Contains(err.Error(), "SQLite") {
		t.Errorf("apply: got %v, want an error saying the marker is for SQLite", err)
	}
}

// TestMigrationKeepsDeliveryLinks upgrades a version 4 database (whose
// subscriptions table 0005 rebuilds) and checks that subscriptions and
// their deliveries' links survive.
func TestMigrationKeepsDeliveryLinks(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v4.db")
	d := sqliteDialect()
	full := d.migrations
	v4 := fstest.MapFS{}
	for _, name := range []string{"0001_init.sql", "0002_topics.sql", "0003_subscriptions.sql", "0004_delivery_payload.sql"} {
		body, err := fs.ReadFile(full, name)
		if err != nil {
			t.Fatal(err)
		}
		v4[name] = &fstest.MapFile{Data: body}
	}
	source, err := sqliteSource(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open(d.driver, source)
	if err != nil {
		t.Fatal(err)
	}
	d.migrations = v4
	if err := migrate(ctx, db, d); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO topics (id, name, query, created_at) VALUES (7, 'korea', 'korea', 0)`,
		`INSERT INTO subscriptions (id, guild_id, channel_id, topic_id, schedule, time_zone, catch_up, created_at)
			VALUES (3, 'g1', 'c1', 7, 'daily 08:00', 'UTC', 'skip', 0)`,
		`INSERT INTO deliveries (key, subscription_id, channel_id, slot, parts, state, created_at, updated_at)
			VALUES ('sub:3:x', 3, 'c1', 0, 1, 'done', 0, 0)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub, err := s.Subscription(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if sub.TopicID != 7 || sub.Topic != "korea" || sub.CatchUp != "skip" || sub.NothingNew != "skip" {
		t.Errorf("migrated subscription: %+v", sub)
	}
	del, err := s.Delivery(ctx, "sub:3:x")
	if err != nil {
		t.Fatal(err)
	}
	if del.SubscriptionID != 3 {
		t.Errorf("migrated delivery's subscription: %d, want 3", del.SubscriptionID)
	}
}

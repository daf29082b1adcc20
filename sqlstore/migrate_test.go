package sqlstore

import (
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
	ms, err := loadMigrations(sqliteDialect().migrations)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no embedded sqlite migrations")
	}
	if ms[0].name != "0001_init.sql" {
		t.Errorf("first migration: got %q, want 0001_init.sql", ms[0].name)
	}
}

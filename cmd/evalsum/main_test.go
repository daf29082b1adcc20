package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/briefbot/briefbot/digest"
)

// testRows are made-up clusters in the corpus's shape: a few documents
// with boilerplate, and a reference summary.
var testRows = []row{
	{
		Row: 0,
		Documents: []string{
			"Tweet with a location \n \n You can add location information to your Tweets, such as your city, from the web and via third-party applications. \n \n Envoys from Kestria and Dalmor met in Geneva on Monday for the first time since their summit collapsed in January. \n \n The two sides exchanged written proposals on border monitors and sanctions relief, officials said.",
			"The Kestrian envoy Aldo Venn said after the Geneva meeting that nothing was agreed until everything was agreed. \n \n Dalmor's envoy Irena Sovik said her side expected an answer within two weeks. \n \n Sign up for our newsletter.",
		},
		Summary: "– Envoys from Kestria and Dalmor met in Geneva on Monday, their first talks since a failed summit in January. Dalmor expects an answer to its proposal on border monitors within two weeks, its envoy said.",
	},
	{
		Row: 1,
		Documents: []string{
			"Tweet with a location \n \n You can add location information to your Tweets, such as your city, from the web and via third-party applications. \n \n The Varno trade fair opened on Monday with more than 1,400 exhibitors from 38 countries, organisers said. \n \n Organisers expect about 90,000 visitors over five days at the exhibition centre.",
			"",
			"Economy minister Rada Holm told exhibitors at the Varno fair that Kestria would cut import duties on industrial equipment this year.",
		},
		Summary: "– A record 1,400 exhibitors from 38 countries are at the Varno trade fair, which opened Monday. The economy minister promised to cut import duties on industrial equipment.",
	},
}

func writeCorpus(t *testing.T, rows []row) string {
	t.Helper()
	var b bytes.Buffer
	for _, r := range rows {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "corpus.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRun(t *testing.T) {
	path := writeCorpus(t, testRows)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-corpus", path, "-n", "5"}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"Summarization: 2 clusters", "extractive", "LEAD", "extractive / LEAD", "Clustering: 4 documents of 2 clusters"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "NaN") {
		t.Errorf("output has NaN:\n%s", out)
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"missing corpus", []string{"-corpus", filepath.Join(t.TempDir(), "absent.jsonl")}, "not found"},
		{"bad n", []string{"-n", "0"}, "-n must be positive"},
		{"extra argument", []string{"extra"}, "unexpected arguments"},
		{"bad json", []string{"-corpus", func() string {
			p := filepath.Join(t.TempDir(), "bad.jsonl")
			if err := os.WriteFile(p, []byte("{not json\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}()}, "bad.jsonl:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			if err == nil {
				t.Fatal("run succeeded, want an error")
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.wantErr)
			}
		})
	}
}

func TestLead(t *testing.T) {
	st := digest.Story{Articles: []digest.Article{
		{ID: "a", Text: "One two three. Four five."},
		{ID: "b", Text: "Six seven. Eight nine ten."},
	}}
	tests := []struct {
		name  string
		words int
		want  string
	}{
		{"first sentences round robin", 5, "One two three. Six seven."},
		{"overflowing sentence cut", 7, "One two three. Six seven. Four five."},
		{"cut mid-sentence", 8, "One two three. Six seven. Four five. Eight"},
		{"everything", 100, "One two three. Six seven. Four five. Eight nine ten."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lead(st, tt.words); got != tt.want {
				t.Errorf("lead(%d) = %q, want %q", tt.words, got, tt.want)
			}
		})
	}
}

func TestPairCounts(t *testing.T) {
	items := []digest.Article{{ID: "a"}, {ID: "b"}, {ID: "c"}, {ID: "d"}}
	truth := map[string]int{"a": 0, "b": 0, "c": 1, "d": 1}
	tests := []struct {
		name string
		pred map[string]int
		want pairMetrics
	}{
		{"perfect", map[string]int{"a": 5, "b": 5, "c": 7, "d": 7}, pairMetrics{1, 1, 1, 1}},
		// Pairs: predicted same {ab, ac, bc}, true same {ab, cd}; one
		// shared: precision 1/3, recall 1/2, F1 0.4. ARI: index 1,
		// expected 2·3/6 = 1, max 2.5: (1-1)/(2.5-1) = 0.
		{"one merged", map[string]int{"a": 0, "b": 0, "c": 0, "d": 1}, pairMetrics{1.0 / 3, 0.5, 0.4, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pairCounts(items, truth, tt.pred)
			for _, c := range [][2]float64{{got.precision, tt.want.precision}, {got.recall, tt.want.recall}, {got.f1, tt.want.f1}, {got.ari, tt.want.ari}} {
				if math.Abs(c[0]-c[1]) > 1e-9 {
					t.Errorf("got %+v, want %+v", got, tt.want)
					break
				}
			}
		})
	}
}

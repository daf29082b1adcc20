package sqlstore

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
)

// benchTexts returns n made-up texts of 150 words drawn from a vocabulary of
// 5,000, deterministic for a seed.
func benchTexts(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, 1))
	texts := make([]string, n)
	var b strings.Builder
	for i := range texts {
		b.Reset()
		for w := range 150 {
			if w > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "w%d", r.IntN(5000))
		}
		texts[i] = b.String()
	}
	return texts
}

// openBench returns a Store on a new SQLite database in b.TempDir().
func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "briefbot.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchArticle returns article i, fetched i seconds after t0, signed sig.
func benchArticle(i int, sig digest.Signature) digest.Article {
	a := newArticle(fmt.Sprint("a", i), 0, t0.Add(time.Duration(i)*time.Second))
	a.Signature = sig
	return a
}

func BenchmarkInsertArticle(b *testing.B) {
	texts := benchTexts(1, 1000)
	sigs := make([]digest.Signature, len(texts))
	for i, text := range texts {
		sigs[i] = digest.Sign(text)
	}
	for _, signed := range []bool{true, false} {
		b.Run(fmt.Sprintf("signed=%v", signed), func(b *testing.B) {
			s := openBench(b)
			ctx := b.Context()
			i := 0
			for b.Loop() {
				var sig digest.Signature
				if signed {
					sig = sigs[i%len(sigs)]
				}
				if err := s.InsertArticle(ctx, benchArticle(i, sig)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkInsertArticles stores signed articles 100 to a transaction;
// ns/article compares with BenchmarkInsertArticle's ns/op.
func BenchmarkInsertArticles(b *testing.B) {
	const batch = 100
	texts := benchTexts(1, 1000)
	sigs := make([]digest.Signature, len(texts))
	for i, text := range texts {
		sigs[i] = digest.Sign(text)
	}
	s := openBench(b)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		err := s.InsertArticles(ctx, func(yield func(digest.Article, []int64) bool) {
			for range batch {
				if !yield(benchArticle(i, sigs[i%len(sigs)]), nil) {
					return
				}
				i++
			}
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i), "ns/article")
}

func BenchmarkNearDuplicateCandidates(b *testing.B) {
	const stored = 20000
	s := openBench(b)
	ctx := b.Context()
	texts := benchTexts(2, stored)
	// One transaction: committing each article would take half a minute.
	start := time.Now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for i, text := range texts {
			if err := insertArticle(ctx, tx, benchArticle(i, digest.Sign(text))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("stored %d signed articles in %v", stored, time.Since(start).Round(time.Millisecond))

	// Lightly edited copies of stored texts (one word in 150 changed), and
	// texts never stored.
	const queries = 500
	edited := make([]digest.Signature, queries)
	for i := range edited {
		words := strings.Fields(texts[i*(stored/queries)])
		words[len(words)/2] = "changed"
		edited[i] = digest.Sign(strings.Join(words, " "))
	}
	unrelated := make([]digest.Signature, queries)
	for i, text := range benchTexts(3, queries) {
		unrelated[i] = digest.Sign(text)
	}
	for _, bm := range []struct {
		name  string
		sigs  []digest.Signature
		since time.Time
	}{
		{"edited copy", edited, time.Time{}},
		{"edited copy, last hour", edited, t0.Add((stored - 3600) * time.Second)},
		{"unrelated", unrelated, time.Time{}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			found, i := 0, 0
			for b.Loop() {
				got, err := s.NearDuplicateCandidates(ctx, bm.sigs[i%len(bm.sigs)], bm.since, 10)
				if err != nil {
					b.Fatal(err)
				}
				found += len(got)
				i++
			}
			b.ReportMetric(float64(found)/float64(i), "candidates/op")
		})
	}
}

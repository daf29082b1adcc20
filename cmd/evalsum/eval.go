package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/sources"
)

// defaultCorpus is the Multi-News sample, relative to the repository root.
const defaultCorpus = "../shared/corpora/summarization/multi_news_sample_test.derived.jsonl"

// config is what the command line asks for.
type config struct {
	corpus string
	n      int
	// boilerplate lets the summarizer learn cross-story boilerplate from
	// all evaluated clusters (digest.Extractive.WithStories).
	boilerplate bool
	// cluster also scores story clustering on the pooled documents.
	cluster bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("evalsum", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.corpus, "corpus", defaultCorpus, "Multi-News `file` of JSON lines {documents, summary}")
	fs.IntVar(&cfg.n, "n", 250, "evaluate the first `n` clusters")
	fs.BoolVar(&cfg.boilerplate, "boilerplate", true, "treat sentences recurring across clusters as boilerplate")
	fs.BoolVar(&cfg.cluster, "cluster", true, "also score story clustering of the pooled documents")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "evalsum: unexpected arguments %q\n", fs.Args())
		return config{}, errors.New("unexpected arguments")
	}
	if cfg.n <= 0 {
		fmt.Fprintln(stderr, "evalsum: -n must be positive")
		return config{}, errors.New("-n must be positive")
	}
	return cfg, nil
}

// row is one cluster of the corpus: its documents and reference summary.
type row struct {
	Row       int      `json:"row"`
	Documents []string `json:"documents"`
	Summary   string   `json:"summary"`
}

// loadCorpus reads the first n rows of a JSON-lines corpus.
func loadCorpus(path string, n int) ([]row, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("corpus %s not found: the evaluation needs the Multi-News sample "+
			"(see ../shared/corpora/README.md); run from the repository root or pass -corpus FILE", path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	line := 0
	for sc.Scan() && len(rows) < n {
		line++
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %v", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no clusters", path)
	}
	return rows, nil
}

// storyOf turns a corpus row into a story: one article per non-empty
// document, cleaned as the bot cleans article text. Documents have no
// titles or outlets; each is its own outlet.
func storyOf(r row) digest.Story {
	var arts []digest.Article
	for i, doc := range r.Documents {
		text := sources.Clean(doc)
		if text == "" {
			continue
		}
		id := fmt.Sprintf("r%d-d%d", r.Row, i)
		arts = append(arts, digest.Article{
			ID:          id,
			Outlet:      id,
			Text:        text,
			TextOrigin:  digest.TextFromPage,
			ContentHash: digest.ContentHash("", text),
			Signature:   digest.Sign(text),
		})
	}
	return digest.Story{ID: digest.StoryID(arts), Articles: arts}
}

// reference returns a row's reference summary without Multi-News's
// leading dash.
func reference(r row) string {
	return strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(r.Summary), "–—- "))
}

// lead is the LEAD baseline: the first sentence of each article in turn,
// then the second of each, and so on, until maxWords words; the sentence
// that overflows is cut to fit, so LEAD always fills the budget.
func lead(s digest.Story, maxWords int) string {
	sents := make([][]string, len(s.Articles))
	for i, a := range s.Articles {
		sents[i] = digest.Sentences(a.Text)
	}
	var out []string
	for k := 0; len(out) < maxWords; k++ {
		more := false
		for _, ss := range sents {
			if k >= len(ss) {
				continue
			}
			more = true
			for _, w := range strings.Fields(ss[k]) {
				if len(out) == maxWords {
					break
				}
				out = append(out, w)
			}
		}
		if !more {
			break
		}
	}
	return strings.Join(out, " ")
}

// scores are mean ROUGE F1 values.
type scores struct{ r1, r2, rl float64 }

func (s *scores) add(candidate, ref string) {
	_, _, f1 := digest.RougeN(candidate, ref, 1)
	_, _, f2 := digest.RougeN(candidate, ref, 2)
	_, _, fl := digest.RougeL(candidate, ref)
	s.r1 += f1
	s.r2 += f2
	s.rl += fl
}

func (s scores) mean(n int) scores {
	return scores{s.r1 / float64(n), s.r2 / float64(n), s.rl / float64(n)}
}

// evaluate runs the evaluation of cfg and writes the report.
func evaluate(ctx context.Context, cfg config, w io.Writer) error {
	rows, err := loadCorpus(cfg.corpus, cfg.n)
	if err != nil {
		return err
	}
	stories := make([]digest.Story, len(rows))
	for i, r := range rows {
		stories[i] = storyOf(r)
	}
	// The bullet limit is lifted so that the summary can reach the
	// reference's length; the word budget is the reference's.
	ex := &digest.Extractive{MaxBulletsOverride: 1000}
	if cfg.boilerplate {
		ex = ex.WithStories(stories)
	}
	var ext, base scores
	evaluated, words := 0, 0
	for i, r := range rows {
		ref := reference(r)
		budget := len(strings.Fields(ref))
		if len(stories[i].Articles) == 0 || budget == 0 {
			continue
		}
		sum, err := ex.Summarize(ctx, digest.SummaryRequest{Story: stories[i], MaxWords: budget})
		if err != nil {
			return fmt.Errorf("summarize row %d: %w", r.Row, err)
		}
		texts := make([]string, len(sum.Bullets))
		for k, b := range sum.Bullets {
			texts[k] = b.Text
		}
		cand := strings.Join(texts, " ")
		words += len(strings.Fields(cand))
		ext.add(cand, ref)
		base.add(lead(stories[i], budget), ref)
		evaluated++
	}
	if evaluated == 0 {
		return errors.New("no cluster with documents and a reference summary")
	}
	ext, base = ext.mean(evaluated), base.mean(evaluated)

	fmt.Fprintf(w, "Summarization: %d clusters of %s\n", evaluated, cfg.corpus)
	fmt.Fprintf(w, "ROUGE F1 × 100, mean over clusters; words lower-cased, not stemmed; budget = reference length\n")
	fmt.Fprintf(w, "(extractive used %.0f words per summary on average)\n\n", float64(words)/float64(evaluated))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tROUGE-1\tROUGE-2\tROUGE-L\t")
	fmt.Fprintf(tw, "extractive\t%.2f\t%.2f\t%.2f\t\n", 100*ext.r1, 100*ext.r2, 100*ext.rl)
	fmt.Fprintf(tw, "LEAD\t%.2f\t%.2f\t%.2f\t\n", 100*base.r1, 100*base.r2, 100*base.rl)
	fmt.Fprintf(tw, "extractive / LEAD\t%.3f\t%.3f\t%.3f\t\n", ratio(ext.r1, base.r1), ratio(ext.r2, base.r2), ratio(ext.rl, base.rl))
	if err := tw.Flush(); err != nil {
		return err
	}

	if cfg.cluster {
		fmt.Fprintln(w)
		if err := evaluateClusters(stories, w); err != nil {
			return err
		}
	}
	return nil
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// evaluateClusters pools the documents of all stories, clusters them with
// the default options and compares the result with the corpus clusters by
// pairwise precision, recall and F1 and the adjusted Rand index.
// Documents that are near-duplicates of a document in another cluster are
// left out: they are scraped boilerplate (an archive's crawl notice, a
// social network's embed notice) that rightly forms a story of its own.
func evaluateClusters(stories []digest.Story, w io.Writer) error {
	truth := make(map[string]int)
	var all []digest.Article
	for i, s := range stories {
		for _, a := range s.Articles {
			truth[a.ID] = i
			all = append(all, a)
		}
	}
	var pool []digest.Article
	for _, a := range all {
		shared := false
		for _, b := range all {
			if truth[a.ID] != truth[b.ID] && digest.IsNearDuplicate(a.Signature, b.Signature) {
				shared = true
				break
			}
		}
		if !shared {
			pool = append(pool, a)
		}
	}
	got := digest.Cluster(pool, digest.ClusterOptions{})
	pred := make(map[string]int)
	for i, s := range got {
		for _, a := range s.Articles {
			pred[a.ID] = i
		}
	}
	m := pairCounts(pool, truth, pred)
	fmt.Fprintf(w, "Clustering: %d documents of %d clusters pooled (%d boilerplate documents shared across clusters left out), %d stories found\n",
		len(pool), len(stories), len(all)-len(pool), len(got))
	fmt.Fprintf(w, "pairwise precision %.3f  recall %.3f  F1 %.3f  adjusted Rand index %.3f\n", m.precision, m.recall, m.f1, m.ari)
	return nil
}

// pairMetrics compare two clusterings of the same items.
type pairMetrics struct{ precision, recall, f1, ari float64 }

// pairCounts compares the predicted clustering with the true one over the
// pairs of items.
func pairCounts(items []digest.Article, truth, pred map[string]int) pairMetrics {
	type cell struct{ t, p int }
	both := make(map[cell]int)
	rowsN := make(map[int]int)
	colsN := make(map[int]int)
	for _, a := range items {
		t, p := truth[a.ID], pred[a.ID]
		both[cell{t, p}]++
		rowsN[t]++
		colsN[p]++
	}
	pairs := func(n int) float64 { return float64(n) * float64(n-1) / 2 }
	var sameBoth, sameTruth, samePred float64
	for _, n := range both {
		sameBoth += pairs(n)
	}
	for _, n := range rowsN {
		sameTruth += pairs(n)
	}
	for _, n := range colsN {
		samePred += pairs(n)
	}
	var m pairMetrics
	if samePred > 0 {
		m.precision = sameBoth / samePred
	}
	if sameTruth > 0 {
		m.recall = sameBoth / sameTruth
	}
	if m.precision+m.recall > 0 {
		m.f1 = 2 * m.precision * m.recall / (m.precision + m.recall)
	}
	total := pairs(len(items))
	if total > 0 {
		expected := sameTruth * samePred / total
		maxIndex := (sameTruth + samePred) / 2
		if maxIndex != expected {
			m.ari = (sameBoth - expected) / (maxIndex - expected)
		}
	}
	return m
}

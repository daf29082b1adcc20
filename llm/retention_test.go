package llm

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/briefbot/briefbot/digest"
)

// multiNews is the Multi-News sample of ../shared/corpora: evaluation
// data, read when present and never copied into the repository.
var multiNews = filepath.Join("..", "..", "shared", "corpora", "summarization", "multi_news_sample_test.derived.jsonl")

// retentionClusters is how many clusters of the sample are evaluated.
const retentionClusters = 200

type multiNewsCluster struct {
	Documents []string `json:"documents"`
	Summary   string   `json:"summary"`
}

// loadMultiNews reads the first n clusters of the sample, or skips the
// test when it is absent.
func loadMultiNews(t *testing.T, n int) []multiNewsCluster {
	t.Helper()
	f, err := os.Open(multiNews)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("no Multi-News sample at %s", multiNews)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cs []multiNewsCluster
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() && len(cs) < n {
		var c multiNewsCluster
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: cluster %d: %v", multiNews, len(cs), err)
		}
		cs = append(cs, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cs
}

// story returns the cluster as a story, one article per document. The
// documents are scraped pages, boilerplate included, and have no titles.
func (c multiNewsCluster) story() digest.Story {
	var arts []digest.Article
	for i, d := range c.Documents {
		if strings.TrimSpace(d) == "" {
			continue
		}
		arts = append(arts, digest.Article{
			ID: fmt.Sprint(i), Outlet: fmt.Sprintf("Outlet %d", i+1), Text: d,
			ContentHash: digest.ContentHash("", d), Signature: digest.Sign(d),
		})
	}
	return digest.Story{Articles: arts}
}

// reference returns the human summary, or its leading sentences of at
// most maxWords words (at least one sentence) when maxWords > 0.
func (c multiNewsCluster) reference(maxWords int) string {
	ref := strings.TrimLeft(strings.TrimSpace(c.Summary), "–—- ")
	if maxWords <= 0 {
		return ref
	}
	var out []string
	words := 0
	for _, s := range splitSentences(strings.Join(strings.Fields(ref), " ")) {
		n := len(strings.Fields(s))
		if len(out) > 0 && words+n > maxWords {
			break
		}
		out = append(out, s)
		words += n
	}
	return strings.Join(out, " ")
}

// sentText is the article text a selection sends.
func sentText(sel selection) string {
	var b strings.Builder
	for _, a := range sel.articles {
		b.WriteString(a.Text)
		b.WriteString("\n\n")
	}
	return b.String()
}

// TestSelectionRetention measures what the cut loses: ROUGE-1 and ROUGE-2
// recall of the Multi-News human summaries against the article text sent
// at the default input budget, and against the full text of the cluster's
// distinct articles, averaged over the first clusters. Recall against the
// full text is the most any selection can reach; retention is the share
// of it the text sent keeps. It is measured for the briefing's default
// summary of 80 words (against the summary's leading sentences of at most
// 80 words) and for a summary as long as the human one (against all of
// it); with -v, other input budgets are measured for comparison. It fails
// when the default keeps clearly less than it did when
// DefaultInputTokensPerWord was chosen.
func TestSelectionRetention(t *testing.T) {
	clusters := loadMultiNews(t, retentionClusters)
	def := &Summarizer{}
	type budget struct {
		name string
		of   func(maxWords int) int
	}
	budgets := []budget{{fmt.Sprintf("default (%d per word, at least %d)", DefaultInputTokensPerWord, minInputBudget), def.inputBudget}}
	if testing.Verbose() && !testing.Short() {
		for _, k := range []int{6, 8, 12, 15} {
			budgets = append(budgets, budget{fmt.Sprintf("%d per word", k), func(w int) int { return max(minInputBudget, k*w) }})
		}
		budgets = append(budgets, budget{"3000 (the former fixed default)", func(int) int { return 3000 }})
	}
	settings := []struct {
		name     string
		maxWords int // 0: the human summary's length
		// minR1, minR2 are the least retention the default may have.
		minR1, minR2 float64
	}{
		{"80-word summary", 80, 0.84, 0.73},
		{"summary as long as the human one", 0, 0.94, 0.87},
	}
	for _, set := range settings {
		var full [2]float64
		sent := make([][2]float64, len(budgets))
		tokens := make([]float64, len(budgets))
		fullTokens := 0.0
		for _, c := range clusters {
			story := c.story()
			ref := c.reference(set.maxWords)
			maxWords := set.maxWords
			if maxWords == 0 {
				maxWords = len(strings.Fields(ref))
			}
			all := selectArticles(story, math.MaxInt)
			_, r1, _ := digest.RougeN(sentText(all), ref, 1)
			_, r2, _ := digest.RougeN(sentText(all), ref, 2)
			full[0] += r1
			full[1] += r2
			fullTokens += float64(estimateTokens(sentText(all)))
			for i, b := range budgets {
				text := sentText(selectArticles(story, b.of(maxWords)))
				_, r1, _ := digest.RougeN(text, ref, 1)
				_, r2, _ := digest.RougeN(text, ref, 2)
				sent[i][0] += r1
				sent[i][1] += r2
				tokens[i] += float64(estimateTokens(text))
			}
		}
		n := float64(len(clusters))
		t.Logf("%s, %d clusters: full distinct text %.0f tokens, ROUGE-1 recall %.3f, ROUGE-2 recall %.3f", set.name, len(clusters), fullTokens/n, full[0]/n, full[1]/n)
		for i, b := range budgets {
			t.Logf("  budget %-34s %5.0f tokens sent, ROUGE-1 %.3f (%.1f%% kept), ROUGE-2 %.3f (%.1f%% kept)",
				b.name+":", tokens[i]/n, sent[i][0]/n, 100*sent[i][0]/full[0], sent[i][1]/n, 100*sent[i][1]/full[1])
		}
		if r1, r2 := sent[0][0]/full[0], sent[0][1]/full[1]; r1 < set.minR1 || r2 < set.minR2 {
			t.Errorf("%s: the default budget keeps %.1f%% of ROUGE-1 and %.1f%% of ROUGE-2 recall, want at least %.0f%% and %.0f%%",
				set.name, 100*r1, 100*r2, 100*set.minR1, 100*set.minR2)
		}
	}
}

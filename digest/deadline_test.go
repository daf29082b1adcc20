package digest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// hangingSummarizer never answers: it waits for its context to end.
type hangingSummarizer struct{}

func (hangingSummarizer) Summarize(ctx context.Context, _ SummaryRequest) (Summary, error) {
	<-ctx.Done()
	return Summary{}, ctx.Err()
}

// TestBuildLLMHangsUntilDeadline: a language model that never answers
// gets three quarters of the caller's time; the briefing is then written
// by the extractive summarizer before the deadline instead of failing
// with it (a scheduled build was retried until its slot was given up).
func TestBuildLLMHangsUntilDeadline(t *testing.T) {
	b := newTestBuilder(hangingSummarizer{})
	b.Parallel = 1 // the stories wait for each other, as with more stories than Parallel
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	dl, _ := ctx.Deadline()
	sel := Selection{Query: "report", From: pipelineNow.Add(-24 * time.Hour), To: pipelineNow}
	br, err := b.Build(ctx, sel, pipelineArticles(3), BriefOptions{})
	if err != nil {
		t.Fatalf("Build: %v, want the extractive briefing before the deadline", err)
	}
	if left := time.Until(dl); left <= 0 {
		t.Errorf("Build returned %s after the deadline", -left)
	}
	if len(br.Stories) != 3 {
		t.Fatalf("%d stories, want 3", len(br.Stories))
	}
	for _, s := range br.Stories {
		if len(s.Bullets) == 0 {
			t.Errorf("story %q has no bullets", s.Headline)
		}
	}
	if br.Summarizer != SummarizerExtractive || !strings.Contains(br.FallbackReason, "the language model timed out") {
		t.Errorf("summarizer %q, fallback %q; want extractive, the language model timed out", br.Summarizer, br.FallbackReason)
	}
}

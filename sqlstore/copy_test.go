package sqlstore

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/briefbot/briefbot/digest"
)

// testCopy fills a SQLite store and copies it into to, twice.
func testCopy(t *testing.T, to *Store) {
	ctx := t.Context()
	from := openSQLite(t)
	src, err := from.AddSource(ctx, newSource("bbc"))
	if err != nil {
		t.Fatal(err)
	}
	korea := mustAddTopic(t, from, "korea", "korea")
	recent := newArticle("recent", src.ID, t0)
	recent.Text = "Talks in Stockholm resumed."
	recent.Signature = digest.Sign("North Korea and the United States held talks in Stockholm on Monday, officials said, the first since the summit in Hanoi broke down without a deal last year.")
	mustInsert(t, from, recent, newArticle("old", src.ID, t0.Add(-90*24*time.Hour)))
	if err := from.SetArticleTopics(ctx, "recent", []int64{korea.ID}); err != nil {
		t.Fatal(err)
	}
	sub := mustAddSubscription(t, from, newSubscription("g1", "c1", korea, "daily 08:00"))
	mustStartDelivery(t, from, digest.Delivery{Key: digest.DeliveryKey(sub.ID, t0), SubscriptionID: sub.ID, ChannelID: "c1", Slot: t0, Parts: 1, Articles: []string{"recent"}})
	if err := from.FinishDelivery(ctx, digest.DeliveryKey(sub.ID, t0), digest.DeliveryDone, ""); err != nil {
		t.Fatal(err)
	}

	if err := from.RecordLLMUsage(ctx, t0, LLMUsage{Model: "gpt-x", GuildID: "g1", Calls: 2, PromptTokens: 900, CompletionTokens: 90}); err != nil {
		t.Fatal(err)
	}

	since := t0.Add(-30 * 24 * time.Hour)
	first, err := Copy(ctx, from, to, since)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Copy(ctx, from, to, since)
	if err != nil {
		t.Fatalf("second copy: %v", err)
	}
	written := map[string]int{}
	for i, st := range first {
		written[st.Table] = st.Written
		if again[i].Written != 0 || again[i].Read != st.Read {
			t.Errorf("second copy of %s: read %d, wrote %d; want the same rows read and none written", st.Table, again[i].Read, again[i].Written)
		}
	}
	if diff := cmp.Diff(written, map[string]int{"sources": 1, "topics": 1, "articles": 1, "article_bands": len(recent.Signature.BandKeys()),
		"article_topics": 1, "summaries": 0, "subscriptions": 1, "deliveries": 1, "llm_usage": 1}); diff != "" {
		t.Errorf("rows written (-got +want):\n%s", diff)
	}

	gotSub, err := to.Subscription(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(gotSub, func() digest.Subscription { s, _ := from.Subscription(ctx, sub.ID); return s }()); diff != "" {
		t.Errorf("copied subscription (-got +want):\n%s", diff)
	}
	if arts, err := to.TopicArticles(ctx, korea.ID, t0.Add(-time.Hour), t0.Add(time.Hour), 10); err != nil || len(arts) != 1 || arts[0].ID != "recent" {
		t.Errorf("copied topic articles: %v, %v", arts, err)
	}
	if seen, err := to.SeenArticles(ctx, sub.ID, since); err != nil || !seen["recent"] {
		t.Errorf("copied delivery history: %v, %v", seen, err)
	}
	if n, err := to.GuildTokensSince(ctx, "g1", t0); err != nil || n != 990 {
		t.Errorf("copied usage: %d tokens, %v; want 990 (once, after two copies)", n, err)
	}
	// The target's own full-text index covers the copied articles.
	if found, err := to.SearchArticles(ctx, []string{"stockholm"}, t0.Add(-2*time.Hour), t0.Add(time.Hour), 10); err != nil || len(found) != 1 || found[0].ID != "recent" {
		t.Errorf("search after copy: %v, %v; want the recent article", found, err)
	}
	// A delivery copied while pending takes the source's later progress.
	key := digest.DeliveryKey(sub.ID, t0.Add(24*time.Hour))
	mustStartDelivery(t, from, digest.Delivery{Key: key, SubscriptionID: sub.ID, ChannelID: "c1", Slot: t0.Add(24 * time.Hour), Parts: 2, CreatedAt: t0})
	if _, err := Copy(ctx, from, to, since); err != nil {
		t.Fatal(err)
	}
	from.Now = func() time.Time { return t0.Add(time.Minute) }
	if err := from.RecordPart(ctx, key, 0, "m1"); err != nil {
		t.Fatal(err)
	}
	if _, err := Copy(ctx, from, to, since); err != nil {
		t.Fatal(err)
	}
	if d, err := to.Delivery(ctx, key); err != nil || len(d.MessageIDs) != 1 {
		t.Errorf("re-copied pending delivery: %+v, %v; want its recorded part", d, err)
	}
	// New rows after a copy get fresh IDs.
	if added, err := to.AddSource(ctx, newSource("dw")); err != nil || added.ID <= src.ID {
		t.Errorf("source added after the copy: %+v, %v", added, err)
	}
}

func TestCopySQLiteToSQLite(t *testing.T)   { testCopy(t, openSQLite(t)) }
func TestCopySQLiteToPostgres(t *testing.T) { testCopy(t, openPostgres(t)) }

func TestCopyRefusesAnotherInstallation(t *testing.T) {
	ctx := t.Context()
	from, to := openSQLite(t), openSQLite(t)
	mustAddTopic(t, from, "japan", "japan")
	mustAddTopic(t, from, "korea", "korea") // id 2
	mustAddTopic(t, to, "korea", "korea")   // id 1: another installation
	if _, err := Copy(ctx, from, to, t0); err == nil || !strings.Contains(err.Error(), `the target's topics id 1 is "korea", not "japan"`) {
		t.Errorf("copy into another installation: %v", err)
	}
	if n, _ := to.Topics(ctx); len(n) != 1 {
		t.Errorf("the refused copy changed the target: %d topics", len(n))
	}
}

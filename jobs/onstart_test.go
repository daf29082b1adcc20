package jobs

import (
	"sync"
	"testing"
	"time"

	"github.com/briefbot/briefbot/digest"
)

// startRecorder is a Config.OnStart that keeps what it is told.
type startRecorder struct {
	mu     sync.Mutex
	starts map[string][]time.Duration
}

func (r *startRecorder) record(kind string, wait time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.starts == nil {
		r.starts = map[string][]time.Duration{}
	}
	r.starts[kind] = append(r.starts[kind], wait)
}

func (r *startRecorder) get(kind string) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.starts[kind]...)
}

func TestOnStart(t *testing.T) { forEachBackend(t, testOnStart) }

// testOnStart checks that each attempt's start is reported with its kind
// and its wait since it was due: the startup tick, and a delivery that
// fails once and so starts twice.
func testOnStart(t *testing.T, b backend) {
	h := &recordingHandler{failDeliver: 1}
	rec := &startRecorder{}
	q, _ := b.start(h, Config{OnStart: rec.record})
	defer q.Stop(5 * time.Second)
	if err := q.EnqueueDeliver(t.Context(), digest.DeliverJob{SubscriptionID: 1, Slot: slot}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delivery to succeed on its second attempt", func() bool { return len(rec.get("deliver_briefing")) == 2 })
	waitFor(t, "the startup tick", func() bool { return len(rec.get("tick")) >= 1 })
	for _, kind := range []string{"tick", "deliver_briefing"} {
		for _, wait := range rec.get(kind) {
			if wait < 0 || wait > 10*time.Second {
				t.Errorf("%s waited %s to start, want 0 to a few seconds (jobs are fetched every 50 ms here)", kind, wait)
			}
		}
	}
}

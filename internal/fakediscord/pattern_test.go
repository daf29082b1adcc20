package fakediscord

import "testing"

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, method, path string
		want                  bool
	}{
		{"*", "GET", "/users/@me", true},
		{"", "POST", "/channels/1/messages", true},
		{"POST /channels/*/messages", "POST", "/channels/1/messages", true},
		{"POST /channels/*/messages", "PATCH", "/channels/1/messages", false},
		{"POST /channels/*/messages", "POST", "/channels/1/messages/2", false},
		{"post /api/v10/channels/*/messages", "POST", "/channels/1/messages", true},
		{"/channels/1/messages", "GET", "/channels/1/messages", true},
		{"/channels/1/messages", "GET", "/channels/2/messages", false},
		{"* /webhooks/**", "PATCH", "/webhooks/1/tok/messages/@original", true},
		{"PATCH /webhooks/*/*/messages/@original", "PATCH", "/webhooks/1/tok/messages/@original", true},
		{"PATCH /webhooks/*/*/messages/@original", "PATCH", "/webhooks/1/tok/messages/3", false},
		{"GET *", "GET", "/gateway", true},
		{"GET *", "POST", "/gateway", false},
	}
	for _, tt := range tests {
		if got := parsePattern(tt.pattern).match(tt.method, tt.path); got != tt.want {
			t.Errorf("%q matches %s %s = %v, want %v", tt.pattern, tt.method, tt.path, got, tt.want)
		}
	}
}

func TestSnowflakesAreMonotonic(t *testing.T) {
	s := &Server{}
	var prev uint64
	for range 5000 {
		id, ts := s.newID()
		n := idNum(id)
		if n <= prev {
			t.Fatalf("ID %d after %d", n, prev)
		}
		prev = n
		got, err := SnowflakeTime(id)
		if err != nil || !got.Equal(ts) {
			t.Fatalf("SnowflakeTime(%s) = %v, %v; want %v", id, got, err, ts)
		}
	}
}

package discord

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// FuzzVerifyInteraction feeds the HTTP interactions check arbitrary
// signatures, timestamps and bodies: it never panics, never accepts a
// request not signed by the key, and accepts every fresh, small, validly
// signed one.
func FuzzVerifyInteraction(f *testing.F) {
	seed := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	pub := seed.Public().(ed25519.PublicKey)
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	h := &interactionsHandler{b: &Bot{publicKey: pub, cfg: Config{Now: func() time.Time { return now }}, log: slog.New(slog.DiscardHandler)}}
	ts := strconv.FormatInt(now.Unix(), 10)
	f.Add(true, "", ts, []byte(`{"id":"1","type":1}`))
	f.Add(false, "00", ts, []byte(`{}`))
	f.Add(true, "", "-1", []byte(``))
	f.Add(false, hex.EncodeToString(make([]byte, 64)), "1e9", []byte("\x00\xff"))
	f.Add(true, "", strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10), []byte(`{"id":"2"}`))
	f.Fuzz(func(t *testing.T, sign bool, sigHex, stamp string, body []byte) {
		if sign {
			sigHex = hex.EncodeToString(ed25519.Sign(seed, append([]byte(stamp), body...)))
		}
		r := httptest.NewRequest("POST", "/interactions", bytes.NewReader(body))
		r.Header.Set("X-Signature-Ed25519", sigHex)
		r.Header.Set("X-Signature-Timestamp", stamp)
		got, reason := h.verify(r)
		secs, err := strconv.ParseInt(stamp, 10, 64)
		fresh := err == nil && now.Sub(time.Unix(secs, 0)).Abs() <= signatureWindow
		valid := sign && fresh && len(body) <= maxInteractionBody
		switch {
		case valid && reason != "":
			t.Fatalf("a fresh, validly signed request was refused: %s", reason)
		case !valid && reason == "":
			t.Fatalf("accepted a request that is not fresh and signed (sign %v, stamp %q)", sign, stamp)
		case reason == "" && !bytes.Equal(got, body):
			t.Fatalf("verify returned another body")
		}
	})
}

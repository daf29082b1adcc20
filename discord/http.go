package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
)

const (
	// maxInteractionBody bounds the body of an HTTP interaction.
	maxInteractionBody = 1 << 20
	// signatureWindow is how far an HTTP interaction's timestamp may be
	// from the clock, either way.
	signatureWindow = 5 * time.Minute
	// initialWait is how long Discord waits for the answer to an HTTP
	// interaction.
	initialWait = 3 * time.Second
	// handlerGrace is how long interaction handlers may go on after
	// shutdown starts, so that an answer in progress is still sent.
	handlerGrace = 10 * time.Second
)

// errRequestOver reports that the answer to Discord's POST went out
// before the handler's initial response was ready.
var errRequestOver = errors.New("the interaction's HTTP request is over")

// InteractionsHandler returns the handler of the bot's Interactions
// Endpoint URL, for HTTP interactions mode, in which Discord POSTs every
// interaction to the bot instead of sending it over the gateway.
//
// Every request must be signed: X-Signature-Ed25519 is the hex Ed25519
// signature, by the key Config.PublicKey names, of X-Signature-Timestamp
// followed by the raw body, and the timestamp (Unix seconds) must be
// within 5 minutes of Config.Now either way. Anything else (another
// method than POST, a missing or malformed header, a wrong signature, a
// stale or future timestamp, a body over 1 MiB, no PublicKey configured)
// is answered 401 with no detail and logged at debug level. A PING is
// answered with a PONG.
//
// Commands, autocomplete and button clicks (a /brief preview's "Post to
// channel") run the same handlers as on the gateway, each interaction ID
// once. The interaction's initial response (a message, a deferral,
// autocomplete choices, the update of a clicked message) is written as
// the body of
// the 200 answer to Discord's POST, as Discord documents for HTTP
// interactions; what follows it (editing the deferred message,
// follow-ups) goes through the interaction's webhook, as on the gateway.
// The answer waits for the initial response at most 3 s, Discord's
// limit; a handler that responds later uses the callback endpoint, as on
// the gateway. An interaction the bot does not answer (one seen before,
// a type it has no handler for) is answered 204 at once.
//
// Handlers outlive their request: they run with a context derived from
// ctx that is cancelled 10 s after ctx is done; Wait waits for them. No
// gateway session is needed: the handlers take the application ID from
// the interaction itself.
func (b *Bot) InteractionsHandler(ctx context.Context) http.Handler {
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	context.AfterFunc(ctx, func() { time.AfterFunc(handlerGrace, hcancel) })
	return &interactionsHandler{b: b, ctx: ctx, hctx: hctx}
}

type interactionsHandler struct {
	b    *Bot
	ctx  context.Context // done when the bot stops taking interactions
	hctx context.Context // handlers' context
}

// offer is a handler's initial response, handed to the HTTP answer.
type offer struct {
	resp    *discordgo.InteractionResponse
	written chan error
}

func (h *interactionsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := h.b
	body, reason := h.verify(r)
	if reason != "" {
		b.log.Debug("interaction request refused", "reason", reason, "remote", r.RemoteAddr)
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil || i.ID == "" {
		b.log.Warn("signed interaction did not decode", "error", err)
		http.Error(w, "bad interaction", http.StatusBadRequest)
		return
	}
	if i.Type == discordgo.InteractionPing {
		writeResponse(w, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
		return
	}
	if h.ctx.Err() != nil {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}

	offers := make(chan offer)
	over := make(chan struct{})
	defer close(over)
	done := make(chan struct{})
	c := &call{i: &i, initial: func(resp *discordgo.InteractionResponse) error {
		o := offer{resp: resp, written: make(chan error, 1)}
		select {
		case offers <- o:
			return <-o.written
		case <-over:
			return errRequestOver
		}
	}}
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		defer close(done)
		b.handle(h.hctx, c)
	}()
	timer := time.NewTimer(initialWait)
	defer timer.Stop()
	select {
	case o := <-offers:
		o.written <- writeResponse(w, o.resp)
	case <-done:
		w.WriteHeader(http.StatusNoContent)
	case <-timer.C:
		b.log.Warn("interaction not answered within 3s", "interaction", i.ID)
		http.Error(w, "no answer in time", http.StatusServiceUnavailable)
	case <-r.Context().Done():
	}
}

// verify reads the body of a request and checks its signature. It
// returns why the request was refused, or "".
func (h *interactionsHandler) verify(r *http.Request) (body []byte, reason string) {
	if r.Method != http.MethodPost {
		return nil, "method " + r.Method
	}
	if h.b.publicKey == nil {
		return nil, "no public key configured (DISCORD_PUBLIC_KEY)"
	}
	sig, err := hex.DecodeString(r.Header.Get("X-Signature-Ed25519"))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, "missing or malformed X-Signature-Ed25519"
	}
	ts := r.Header.Get("X-Signature-Timestamp")
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, "missing or malformed X-Signature-Timestamp"
	}
	if d := h.b.cfg.Now().Sub(time.Unix(secs, 0)); d > signatureWindow || d < -signatureWindow {
		return nil, fmt.Sprintf("timestamp %s off the clock", d.Round(time.Second))
	}
	if r.ContentLength > maxInteractionBody {
		return nil, "body too large"
	}
	body, err = io.ReadAll(io.LimitReader(r.Body, maxInteractionBody+1))
	if err != nil {
		return nil, "reading body: " + err.Error()
	}
	if len(body) > maxInteractionBody {
		return nil, "body too large"
	}
	msg := make([]byte, 0, len(ts)+len(body))
	msg = append(append(msg, ts...), body...)
	if !ed25519.Verify(h.b.publicKey, msg, sig) {
		return nil, "bad signature"
	}
	return body, ""
}

// writeResponse writes an interaction response as a 200 JSON answer.
func writeResponse(w http.ResponseWriter, resp *discordgo.InteractionResponse) error {
	body, err := json.Marshal(resp)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return fmt.Errorf("encode interaction response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("write interaction response: %w", err)
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// Serve runs the bot in HTTP interactions mode, answering the
// interactions Discord POSTs to ln (see InteractionsHandler), until ctx
// is done. It first checks the token (ErrBadToken if Discord rejects
// it), learns the application and bot user IDs over REST and registers
// the commands (shard 0 only); it opens no gateway connection, so
// replicas behind a load balancer share nothing but the Store. When ctx
// is done it stops taking requests, waits for the handlers in flight
// (their context is cancelled 10 s later) and returns nil. Serve closes
// ln.
func (b *Bot) Serve(ctx context.Context, ln net.Listener) error {
	defer dglog.attach(b.log, b.cfg.Token)()
	if b.publicKey == nil {
		ln.Close()
		return errors.New("discord: DISCORD_PUBLIC_KEY is not set: HTTP interactions need the application's public key (Discord Developer Portal → General Information)")
	}
	if _, _, err := b.ensureIDs(ctx); err != nil {
		ln.Close()
		if restStatus(err) == http.StatusUnauthorized {
			return ErrBadToken
		}
		return fmt.Errorf("discord: %w", err)
	}
	registered, err := b.registerCommands(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{
		Handler:           b.InteractionsHandler(ctx),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(b.log.Handler(), slog.LevelDebug),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	b.log.Info(fmt.Sprintf("serving Discord's HTTP interactions on %s; %s", ln.Addr(), registered), "addr", ln.Addr().String())
	select {
	case err = <-served:
		err = fmt.Errorf("discord: serve interactions: %w", err)
	case <-ctx.Done():
	}
	// Stop taking requests and let those in progress hand over their
	// initial responses; then the handlers get their grace period.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), handlerGrace)
	if serr := srv.Shutdown(sctx); serr != nil {
		srv.Close()
	}
	scancel()
	if err == nil {
		<-served
	}
	cancel()
	b.Wait()
	return err
}

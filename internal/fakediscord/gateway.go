package fakediscord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Identify is a recorded IDENTIFY (op 2).
type Identify struct {
	// Token is the token as sent (discordgo sends "Bot <token>").
	Token          string
	Intents        int64
	Shard          [2]int // [0, 1] when the client sent none
	Compress       bool
	LargeThreshold int
	Properties     map[string]any
	// CloseCode is the close code the fake answered with (4004, 4013,
	// 4014, …), or 0 if it sent READY.
	CloseCode int
}

// Resume is a recorded RESUME (op 6).
type Resume struct {
	SessionID string
	Seq       int64
	// Accepted reports that the fake replayed Replayed dispatches and
	// sent RESUMED. Otherwise CloseCode is the close code it answered
	// with (4004 bad token, 4007 bad seq), or 0 if it answered with an
	// Invalid Session (op 9) because the session is unknown or was
	// invalidated.
	Accepted  bool
	Replayed  int
	CloseCode int
}

// Privileged gateway intents.
const privilegedIntents = 1<<1 | 1<<8 | 1<<15

// Intents that route MESSAGE_* dispatches.
const (
	intentGuildMessages  = 1 << 9
	intentDirectMessages = 1 << 12
)

type gwSession struct {
	id      string
	seq     int64
	events  [][]byte // every dispatch, events[i] has seq i+1
	conn    *gwConn  // nil while disconnected
	intents int64
	shard   [2]int
	sharded bool // the client sent a shard
	invalid bool
}

type gwConn struct {
	ws      *websocket.Conn
	version int
	sess    *gwSession
	ready   bool // READY or RESUMED sent
	dead    bool // closed or closing: nothing more is sent
}

// closeReason is the text Discord sends with a gateway close code.
func closeReason(code int) string {
	switch code {
	case 4000:
		return "Unknown error"
	case 4001:
		return "Unknown opcode"
	case 4002:
		return "Decode error"
	case 4003:
		return "Not authenticated"
	case 4004:
		return "Authentication failed"
	case 4005:
		return "Already authenticated"
	case 4007:
		return "Invalid seq"
	case 4008:
		return "Rate limited"
	case 4009:
		return "Session timed out"
	case 4010:
		return "Invalid shard"
	case 4011:
		return "Sharding required"
	case 4012:
		return "Invalid API version"
	case 4013:
		return "Invalid intent(s)"
	case 4014:
		return "Disallowed intent(s)"
	}
	return ""
}

// resumable reports whether a session survives a close with code.
func resumable(code int) bool {
	switch code {
	case 4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014:
		return false
	}
	return true
}

func trace() []string { return []string{`["gateway-prd-fake",{"micros":0.0}]`} }

// serveGateway runs one gateway websocket connection.
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	version, versionOK := 10, true
	if v := q.Get("v"); v != "" {
		n, err := strconv.Atoi(v)
		version, versionOK = n, err == nil && (n == 9 || n == 10)
	}
	encodingOK := q.Get("encoding") == "" || q.Get("encoding") == "json"
	ws, err := s.upgrade.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	c := &gwConn{ws: ws, version: version}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	defer s.wg.Done()
	switch {
	case !versionOK:
		s.closeConn(c, 4012)
	case !encodingOK:
		s.closeConn(c, 4002)
	default:
		hello, _ := json.Marshal(map[string]any{
			"op": 10, "s": nil, "t": nil,
			"d": map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval, "_trace": trace()},
		})
		s.send(c, hello)
	}
	s.mu.Unlock()

	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			s.mu.Lock()
			// Closing with 1000 or 1001 ends the session (Discord:
			// "your session will be invalidated"), unless the client
			// is answering the fake's own close.
			if errors.As(err, &ce) && (ce.Code == 1000 || ce.Code == 1001) && !c.dead && c.sess != nil {
				c.sess.invalid = true
			}
			s.mu.Unlock()
			break
		}
		s.mu.Lock()
		if !c.dead {
			s.handleFrame(c, data)
		}
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.detach(c)
	delete(s.conns, c)
	s.mu.Unlock()
	ws.Close()
}

// handleFrame handles one payload from the client; s.mu is held.
func (s *Server) handleFrame(c *gwConn, data []byte) {
	var p struct {
		Op *int            `json:"op"`
		D  json.RawMessage `json:"d"`
	}
	if json.Unmarshal(data, &p) != nil || p.Op == nil {
		s.closeConn(c, 4002)
		return
	}
	switch *p.Op {
	case 1: // heartbeat
		s.heartbeats++
		s.notify()
		ack, _ := json.Marshal(map[string]any{"op": 11, "s": nil, "t": nil, "d": nil})
		s.send(c, ack)
	case 2:
		s.identify(c, p.D)
	case 6:
		s.resume(c, p.D)
	case 3, 4, 8: // presence update, voice state update, request guild members
		if c.sess == nil {
			s.closeConn(c, 4003)
		}
	default:
		s.closeConn(c, 4001)
	}
}

// identify handles IDENTIFY; s.mu is held.
func (s *Server) identify(c *gwConn, d json.RawMessage) {
	if c.sess != nil {
		s.closeConn(c, 4005)
		return
	}
	var id struct {
		Token          string         `json:"token"`
		Intents        *int64         `json:"intents"`
		Shard          *[2]int        `json:"shard"`
		Compress       bool           `json:"compress"`
		LargeThreshold int            `json:"large_threshold"`
		Properties     map[string]any `json:"properties"`
	}
	if json.Unmarshal(d, &id) != nil {
		s.closeConn(c, 4002)
		return
	}
	rec := Identify{
		Token: id.Token, Shard: [2]int{0, 1}, Compress: id.Compress,
		LargeThreshold: id.LargeThreshold, Properties: id.Properties,
	}
	if id.Intents != nil {
		rec.Intents = *id.Intents
	}
	if id.Shard != nil {
		rec.Shard = *id.Shard
	}
	switch {
	case strings.TrimPrefix(id.Token, "Bot ") != s.token:
		rec.CloseCode = 4004
	case id.Intents == nil || rec.Intents < 0 || rec.Intents >= 1<<26:
		rec.CloseCode = 4013
	case rec.Intents&privilegedIntents&^s.opts.PrivilegedIntents != 0:
		rec.CloseCode = 4014
	case rec.Shard[1] < 1 || rec.Shard[0] < 0 || rec.Shard[0] >= rec.Shard[1]:
		rec.CloseCode = 4010
	}
	s.identifies = append(s.identifies, rec)
	if rec.CloseCode != 0 {
		s.closeConn(c, rec.CloseCode)
		return
	}
	sess := &gwSession{
		id: s.opaque("", 16), intents: rec.Intents, shard: rec.Shard, sharded: id.Shard != nil, conn: c,
	}
	s.sessions[sess.id] = sess
	s.sessionSeq = append(s.sessionSeq, sess)
	c.sess = sess
	s.dispatch(sess, "READY", s.readyData(sess, c.version))
	c.ready = true
	for _, g := range s.opts.Guilds {
		if shardOf(g, sess.shard[1]) == sess.shard[0] {
			s.dispatch(sess, "GUILD_CREATE", s.guildCreate(g))
		}
	}
	s.notify()
}

// shardOf is Discord's sharding formula.
func shardOf(guildID string, count int) int {
	if count <= 1 {
		return 0
	}
	return int((idNum(guildID) >> 22) % uint64(count))
}

// readyData builds READY's data; s.mu is held.
func (s *Server) readyData(sess *gwSession, version int) map[string]any {
	guilds := []any{}
	for _, g := range s.opts.Guilds {
		if shardOf(g, sess.shard[1]) == sess.shard[0] {
			guilds = append(guilds, map[string]any{"id": g, "unavailable": true})
		}
	}
	user := s.botUser()
	user["verified"] = true
	user["mfa_enabled"] = false
	user["email"] = nil
	d := map[string]any{
		"v": version, "user": user, "session_id": sess.id, "session_type": "normal",
		"resume_gateway_url": s.wsURL, "guilds": guilds, "private_channels": []any{},
		"relationships": []any{}, "presences": []any{}, "guild_join_requests": []any{},
		"geo_ordered_rtc_regions": []any{"fake"}, "user_settings": map[string]any{},
		"application": map[string]any{"id": s.opts.AppID, "flags": 0}, "_trace": trace(),
	}
	if sess.sharded {
		d["shard"] = sess.shard
	}
	return d
}

// guildCreate builds a GUILD_CREATE's data; s.mu is held.
func (s *Server) guildCreate(id string) map[string]any {
	g := s.guildObject(id)
	channels := []any{}
	for _, c := range s.guildChannels(id) {
		o := c.object(s.opts.BotUserID)
		delete(o, "guild_id")
		channels = append(channels, o)
	}
	for k, v := range map[string]any{
		"unavailable": false, "joined_at": timestamp(time.UnixMilli(idBaseMs).UTC()), "large": false,
		"member_count": 2, "members": []any{}, "channels": channels, "threads": []any{},
		"presences": []any{}, "voice_states": []any{}, "stage_instances": []any{},
		"guild_scheduled_events": []any{}, "soundboard_sounds": []any{}, "lazy": true,
	} {
		g[k] = v
	}
	return g
}

// resume handles RESUME; s.mu is held.
func (s *Server) resume(c *gwConn, d json.RawMessage) {
	if c.sess != nil {
		s.closeConn(c, 4005)
		return
	}
	var rd struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       *int64 `json:"seq"`
	}
	if json.Unmarshal(d, &rd) != nil {
		s.closeConn(c, 4002)
		return
	}
	rec := Resume{SessionID: rd.SessionID}
	if rd.Seq != nil {
		rec.Seq = *rd.Seq
	}
	sess := s.sessions[rd.SessionID]
	switch {
	case strings.TrimPrefix(rd.Token, "Bot ") != s.token:
		rec.CloseCode = 4004
		s.closeConn(c, 4004)
	case sess == nil || sess.invalid:
		s.invalidSession(c)
	case rec.Seq > sess.seq || rec.Seq < 0:
		rec.CloseCode = 4007
		sess.invalid = true
		s.closeConn(c, 4007)
	default:
		if old := sess.conn; old != nil && old != c {
			s.dropConn(old)
		}
		c.sess = sess
		sess.conn = c
		for _, ev := range sess.events[rec.Seq:] {
			s.send(c, ev)
			rec.Replayed++
		}
		s.dispatch(sess, "RESUMED", map[string]any{"_trace": trace()})
		c.ready = true
		rec.Accepted = true
	}
	s.resumes = append(s.resumes, rec)
	s.notify()
}

// invalidSession sends op 9 (not resumable); the client may IDENTIFY on
// the same connection. s.mu is held.
func (s *Server) invalidSession(c *gwConn) {
	p, _ := json.Marshal(map[string]any{"op": 9, "s": nil, "t": nil, "d": false})
	s.send(c, p)
}

// dispatch sends a dispatch (op 0) on a session, recording it for
// replay; s.mu is held.
func (s *Server) dispatch(sess *gwSession, t string, d any) {
	sess.seq++
	raw, err := json.Marshal(map[string]any{"op": 0, "s": sess.seq, "t": t, "d": d})
	if err != nil {
		panic(fmt.Sprintf("fakediscord: marshal %s: %v", t, err))
	}
	sess.events = append(sess.events, raw)
	if sess.conn != nil {
		s.send(sess.conn, raw)
	}
}

// dispatchMessage sends a MESSAGE_* dispatch to the sessions whose
// intents ask for it; s.mu is held.
func (s *Server) dispatchMessage(t, guildID string, d any) {
	bit := int64(intentDirectMessages)
	if guildID != "" {
		bit = intentGuildMessages
	}
	for _, sess := range s.sessionsFor(guildID) {
		if sess.intents&bit != 0 {
			s.dispatch(sess, t, d)
		}
	}
}

// sessionsFor returns the valid sessions of the shard owning a guild
// (shard 0 for DMs); s.mu is held.
func (s *Server) sessionsFor(guildID string) []*gwSession {
	var out []*gwSession
	for _, sess := range s.sessionSeq {
		if !sess.invalid && shardOf(guildID, sess.shard[1]) == sess.shard[0] {
			out = append(out, sess)
		}
	}
	return out
}

// send writes one text frame; a failed write drops the connection. s.mu
// is held.
func (s *Server) send(c *gwConn, raw []byte) {
	if c.dead {
		return
	}
	c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.ws.WriteMessage(websocket.TextMessage, raw); err != nil {
		s.dropConn(c)
	}
}

// detach marks a connection dead and parts it from its session; s.mu is
// held.
func (s *Server) detach(c *gwConn) {
	c.dead, c.ready = true, false
	if c.sess != nil && c.sess.conn == c {
		c.sess.conn = nil
	}
	s.notify()
}

// dropConn closes a connection's TCP connection without a close frame;
// s.mu is held.
func (s *Server) dropConn(c *gwConn) {
	s.detach(c)
	c.ws.UnderlyingConn().Close()
}

// closeConn sends a close frame with code and its reason, then gives the
// client two seconds to read it and close; s.mu is held.
func (s *Server) closeConn(c *gwConn, code int) {
	if c.dead {
		return
	}
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, closeReason(code)), time.Now().Add(time.Second))
	if c.sess != nil && !resumable(code) {
		c.sess.invalid = true
	}
	s.detach(c)
	c.ws.SetReadDeadline(time.Now().Add(2 * time.Second))
}

// liveConns returns the open connections; s.mu is held.
func (s *Server) liveConns() []*gwConn {
	var out []*gwConn
	for c := range s.conns {
		if !c.dead {
			out = append(out, c)
		}
	}
	return out
}

// Connected reports whether a gateway connection is open and has been
// sent READY or RESUMED.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected()
}

func (s *Server) connected() bool {
	for c := range s.conns {
		if c.ready && !c.dead {
			return true
		}
	}
	return false
}

// WaitReady waits until Connected: after Open, or after DropGateway or
// CloseGateway until the client has reconnected and resumed or
// identified again.
func (s *Server) WaitReady(ctx context.Context) error {
	if err := s.waitFor(ctx, s.connected); err != nil {
		return fmt.Errorf("fakediscord: waiting for a ready gateway connection: %w", err)
	}
	return nil
}

// DropGateway closes every gateway connection's TCP connection without a
// close frame, as a network failure would. Sessions stay resumable;
// dispatches sent meanwhile are replayed on RESUME.
func (s *Server) DropGateway() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.liveConns() {
		s.dropConn(c)
	}
}

// CloseGateway closes every gateway connection with a close frame of
// code and Discord's reason for it ("Authentication failed" for 4004).
// For the codes after which Discord does not allow resuming (4004, 4007,
// 4009, 4010–4014) the sessions are invalidated, so a RESUME gets an
// Invalid Session; with 4004 a client with the same token is then
// accepted again unless SetToken changed it.
func (s *Server) CloseGateway(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.liveConns() {
		s.closeConn(c, code)
	}
}

// RequestReconnect sends a Reconnect (op 7) on every connection, as
// Discord does before moving a session; the session stays resumable.
func (s *Server) RequestReconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, _ := json.Marshal(map[string]any{"op": 7, "s": nil, "t": nil, "d": nil})
	for _, c := range s.liveConns() {
		s.send(c, p)
	}
}

// InvalidateSession sends an Invalid Session (op 9, not resumable) on
// every identified connection and forgets their sessions; the client is
// expected to IDENTIFY again (discordgo does so on the same connection).
func (s *Server) InvalidateSession() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.liveConns() {
		if c.sess == nil {
			continue
		}
		c.sess.invalid = true
		c.sess.conn = nil
		c.sess = nil
		c.ready = false
		s.invalidSession(c)
	}
	s.notify()
}

// Dispatch sends a dispatch of type t (such as "GUILD_DELETE" or
// "CHANNEL_DELETE") with data d to every valid session.
func (s *Server) Dispatch(t string, d any) error {
	if _, err := json.Marshal(d); err != nil {
		return fmt.Errorf("fakediscord: dispatch %s: %w", t, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sess := range s.sessionSeq {
		if !sess.invalid {
			s.dispatch(sess, t, d)
			n++
		}
	}
	if n == 0 {
		return errNoSession
	}
	s.notify()
	return nil
}

// Identifies returns every IDENTIFY received, in order.
func (s *Server) Identifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Identify(nil), s.identifies...)
}

// Heartbeats returns the number of heartbeats (op 1) received. discordgo
// sends its first one when Open returns, from a new goroutine; a test
// that breaks the connection right after Open should wait for it, or that
// goroutine may see the broken connection too and start a second
// reconnect loop.
func (s *Server) Heartbeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heartbeats
}

// Resumes returns every RESUME received, in order.
func (s *Server) Resumes() []Resume {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Resume(nil), s.resumes...)
}

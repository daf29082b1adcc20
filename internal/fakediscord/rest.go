package fakediscord

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Request is one REST request the server received, recorded once it was
// answered (or dropped).
type Request struct {
	Method string
	// Path is the path below the API prefix, such as
	// /channels/123/messages; Version is the API version of the prefix
	// ("9" for /api/v9/, "" for /api/).
	Path    string
	Version string
	Query   url.Values
	Header  http.Header
	// Body is the body as sent. JSON is Body decoded with encoding/json
	// (numbers as float64), or, for a multipart body, its payload_json
	// part; nil if there was none or it did not decode.
	Body []byte
	JSON any
	// Files are the file parts of a multipart body.
	Files []File
	// Status is the status the fake answered with; 0 if the connection
	// was dropped (Dropped). Fault reports whether an injected Fault
	// decided the answer.
	Status  int
	Dropped bool
	Fault   bool
	// Endpoint marks an interaction response that came back as the body
	// of an Interactions Endpoint URL's answer to PostInteraction rather
	// than as a request to the callback endpoint; it is recorded as a
	// POST to /interactions/{id}/{token}/callback and Header holds the
	// answer's headers.
	Endpoint bool
	// Received is when the request's body had been read; Answered is
	// when the fake decided its answer (after any Options.Latency and
	// Fault delay), just before writing it. Discord's 3 s callback rule
	// is measured at Answered. Both are wall-clock times.
	Received, Answered time.Time
}

// Decode decodes the request's JSON (the payload_json part of a multipart
// body) into v.
func (r Request) Decode(v any) error {
	b, err := json.Marshal(r.JSON)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// File is one file part of a multipart request.
type File struct {
	Field       string // form field, such as files[0]
	Name        string
	ContentType string
	Data        []byte
}

// Requests returns every recorded request, in the order they were
// answered.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// RequestsTo returns the recorded requests matching a route pattern (see
// Inject), in the order they were answered.
func (s *Server) RequestsTo(route string) []Request {
	p := parsePattern(route)
	var out []Request
	for _, r := range s.Requests() {
		if p.match(r.Method, r.Path) {
			out = append(out, r)
		}
	}
	return out
}

// WaitRequest waits until a request matching the route pattern has been
// answered and returns the first one.
func (s *Server) WaitRequest(ctx context.Context, route string) (Request, error) {
	p := parsePattern(route)
	var got Request
	err := s.waitFor(ctx, func() bool {
		for _, r := range s.requests {
			if p.match(r.Method, r.Path) {
				got = r
				return true
			}
		}
		return false
	})
	return got, err
}

type authMode int

const (
	authRequired authMode = iota // bot token required
	authOptional                 // webhooks and interactions: checked if sent
	authNone                     // GET /gateway
)

// route is one REST endpoint. Path segments in braces are parameters; the
// first major of them form the rate limit's major parameter.
type route struct {
	method string
	path   string
	segs   []string
	auth   authMode
	major  int
	bucket string // X-RateLimit-Bucket
	handle func(s *Server, c *call) reply
}

// call is one routed request being handled.
type call struct {
	r      *http.Request
	params []string
	query  url.Values
	body   []byte
	json   any
	files  []File
	route  *route
}

// object returns the request JSON as an object, or nil.
func (c *call) object() map[string]any {
	m, _ := c.json.(map[string]any)
	return m
}

// reply is a handler's answer: a status and a body marshaled to JSON
// (none for 204).
type reply struct {
	status int
	body   any
}

func success(body any) reply { return reply{http.StatusOK, body} }

func noContent() reply { return reply{status: http.StatusNoContent} }

// apiError is Discord's error body: {"message": …, "code": …}.
func apiError(status, code int, message string) reply {
	return reply{status, map[string]any{"message": message, "code": code}}
}

func notFound() reply { return apiError(http.StatusNotFound, 0, "404: Not Found") }

func unauthorized() reply { return apiError(http.StatusUnauthorized, 0, "401: Unauthorized") }

func badJSON() reply {
	return apiError(http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
}

// fieldError is one entry of an Invalid Form Body error: path is dotted
// ("embeds.0.title"; "" for the body itself).
type fieldError struct {
	path    string
	code    string
	message string
}

// formError is Discord's 400 Invalid Form Body (50035), with the errors
// nested by path as Discord nests them.
func formError(errs ...fieldError) reply {
	root := map[string]any{}
	for _, e := range errs {
		node := root
		if e.path != "" {
			for _, k := range strings.Split(e.path, ".") {
				next, _ := node[k].(map[string]any)
				if next == nil {
					next = map[string]any{}
					node[k] = next
				}
				node = next
			}
		}
		list, _ := node["_errors"].([]any)
		node["_errors"] = append(list, map[string]any{"code": e.code, "message": e.message})
	}
	return reply{http.StatusBadRequest, map[string]any{
		"message": "Invalid Form Body", "code": 50035, "errors": root,
	}}
}

var apiPrefix = regexp.MustCompile(`^/api(?:/v(\d+))?(/.*)?$`)

// maxBody is Discord's request size limit for bots.
const maxBody = 25 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/gateway" || r.URL.Path == "/gateway/" {
		s.serveGateway(w, r)
		return
	}
	m := apiPrefix.FindStringSubmatch(r.URL.Path)
	if m == nil {
		writeReply(w, nil, notFound())
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return
	}
	rec := Request{
		Method:   r.Method,
		Version:  m[1],
		Path:     m[2],
		Query:    r.URL.Query(),
		Header:   r.Header.Clone(),
		Body:     body,
		Received: time.Now(),
	}
	if rec.Path == "" {
		rec.Path = "/"
	}
	rec.JSON, rec.Files = decodeBody(r.Header.Get("Content-Type"), body)

	s.mu.Lock()
	f, hasFault := s.takeFault(rec.Method, rec.Path)
	s.mu.Unlock()
	if !s.hold(r, s.opts.Latency) {
		return
	}
	if hasFault && f.Delay > 0 && !s.hold(r, f.Delay) {
		return
	}
	if hasFault && f.Drop {
		rec.Dropped, rec.Fault = true, true
		rec.Answered = time.Now()
		s.mu.Lock()
		s.record(rec)
		s.mu.Unlock()
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}

	s.mu.Lock()
	rec.Answered = time.Now()
	hdr := http.Header{}
	var rep reply
	rt, params, status := s.match(rec.Method, rec.Path)
	switch {
	case hasFault && f.Status != 0:
		rec.Fault = true
		rep = s.faultReply(f, rt, hdr)
	case m[1] != "" && m[1] != "9" && m[1] != "10":
		rep = apiError(http.StatusBadRequest, 50041, "Invalid API version provided")
	case len(body) > maxBody:
		rep = apiError(http.StatusRequestEntityTooLarge, 40005, "Request entity too large")
	case rt == nil && status == http.StatusMethodNotAllowed:
		rep = apiError(http.StatusMethodNotAllowed, 0, "405: Method Not Allowed")
	case rt == nil:
		rep = notFound()
	default:
		rep = s.serveRoute(r, rt, params, &rec, hdr)
	}
	rec.Status = rep.status
	s.record(rec)
	s.mu.Unlock()
	if hasFault && f.HoldAnswer > 0 && !s.hold(r, f.HoldAnswer) {
		return
	}
	writeReply(w, hdr, rep)
}

// hold waits for d (nothing when d is zero) or until the client gives
// up; it reports false, and the request is left unanswered, only when
// the server closes meanwhile.
func (s *Server) hold(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	case <-s.done:
		return false
	}
	return true
}

// serveRoute checks authorization and the rate limit, then runs the
// handler; s.mu is held.
func (s *Server) serveRoute(r *http.Request, rt *route, params []string, rec *Request, hdr http.Header) reply {
	if rep, ok := s.authorize(rt, r.Header.Get("Authorization")); !ok {
		return rep
	}
	if rep, ok := s.rateLimit(rt, params, hdr); !ok {
		return rep
	}
	if rec.JSON == nil && len(bytes.TrimSpace(rec.Body)) > 0 && rec.Files == nil {
		return badJSON()
	}
	c := &call{r: r, params: params, query: rec.Query, body: rec.Body, json: rec.JSON, files: rec.Files, route: rt}
	return rt.handle(s, c)
}

// record appends a request and links it to its interaction; s.mu is held.
func (s *Server) record(rec Request) {
	s.requests = append(s.requests, rec)
	if in := s.interactionOf(rec.Path); in != nil {
		in.requests = append(in.requests, len(s.requests)-1)
	}
	s.notify()
}

// authorize checks the Authorization header against the route's mode.
func (s *Server) authorize(rt *route, auth string) (reply, bool) {
	switch {
	case rt.auth == authNone:
		return reply{}, true
	case auth == "" && rt.auth == authOptional:
		return reply{}, true
	case auth == "Bot "+s.token:
		return reply{}, true
	}
	return unauthorized(), false
}

// match finds the route for method and path. With no route it returns
// 405 if the path exists for another method, else 404.
func (s *Server) match(method, path string) (*route, []string, int) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	status := http.StatusNotFound
	for i := range s.routes {
		rt := &s.routes[i]
		params, ok := matchSegs(rt.segs, segs)
		if !ok {
			continue
		}
		if rt.method != method {
			status = http.StatusMethodNotAllowed
			continue
		}
		return rt, params, 0
	}
	return nil, nil, status
}

func matchSegs(pattern, segs []string) ([]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var params []string
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") {
			if segs[i] == "" {
				return nil, false
			}
			params = append(params, segs[i])
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

// bucketState is one rate limit window of a bucket and major parameter.
type bucketState struct {
	start time.Time
	count int
}

// rateLimit counts the request against its bucket, sets the
// X-RateLimit-* headers, and answers 429 when the window is spent.
func (s *Server) rateLimit(rt *route, params []string, hdr http.Header) (reply, bool) {
	key := rt.bucket + ":" + strings.Join(params[:min(rt.major, len(params))], "/")
	now := time.Now()
	b := s.buckets[key]
	if b == nil || now.Sub(b.start) >= s.opts.RateLimitWindow {
		b = &bucketState{start: now}
		s.buckets[key] = b
	}
	resetAfter := b.start.Add(s.opts.RateLimitWindow).Sub(now)
	if b.count >= s.opts.RateLimit {
		setBucketHeaders(hdr, s.opts.RateLimit, 0, now, resetAfter, rt.bucket)
		hdr.Set("X-RateLimit-Scope", "user")
		hdr.Set("Retry-After", retryAfterHeader(resetAfter.Seconds()))
		return reply{http.StatusTooManyRequests, rateLimitBody(resetAfter.Seconds(), false)}, false
	}
	b.count++
	setBucketHeaders(hdr, s.opts.RateLimit, s.opts.RateLimit-b.count, now, resetAfter, rt.bucket)
	return reply{}, true
}

func setBucketHeaders(hdr http.Header, limit, remaining int, now time.Time, resetAfter time.Duration, bucket string) {
	secs := math.Ceil(resetAfter.Seconds()*1000) / 1000
	hdr.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	hdr.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	hdr.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(now.UnixMilli())/1000+secs, 'f', 3, 64))
	hdr.Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
	hdr.Set("X-RateLimit-Bucket", bucket)
}

// retryAfterHeader is Retry-After as Discord sends it: whole seconds,
// rounded up.
func retryAfterHeader(secs float64) string {
	return strconv.Itoa(int(math.Ceil(secs)))
}

func rateLimitBody(retryAfter float64, global bool) map[string]any {
	return map[string]any{
		"message":     "You are being rate limited.",
		"retry_after": math.Round(retryAfter*1000) / 1000,
		"global":      global,
	}
}

func writeReply(w http.ResponseWriter, hdr http.Header, rep reply) {
	for k, v := range hdr {
		w.Header()[k] = v
	}
	if rep.status == http.StatusNoContent || rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	var b []byte
	switch body := rep.body.(type) {
	case rawBody:
		w.Header().Set("Content-Type", body.contentType)
		b = []byte(body.text)
	default:
		var err error
		b, err = json.Marshal(body)
		if err != nil {
			b = []byte(fmt.Sprintf(`{"message": %q, "code": 0}`, err.Error()))
		}
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(rep.status)
	w.Write(b)
}

// rawBody is a reply body sent verbatim.
type rawBody struct {
	contentType string
	text        string
}

// decodeBody decodes a JSON body, or the payload_json part and the files
// of a multipart one.
func decodeBody(contentType string, body []byte) (any, []File) {
	mt, params, _ := mime.ParseMediaType(contentType)
	if mt != "multipart/form-data" {
		var v any
		if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &v) != nil {
			return nil, nil
		}
		return v, nil
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var v any
	files := []File{}
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		data, _ := io.ReadAll(p)
		if p.FormName() == "payload_json" {
			json.Unmarshal(data, &v)
			continue
		}
		files = append(files, File{Field: p.FormName(), Name: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: data})
	}
	return v, files
}

// routeTable lists the endpoints the fake serves. Routes with literal
// segments come before parameterized ones that would also match.
func routeTable() []route {
	rs := []route{
		{method: "GET", path: "/gateway", auth: authNone, handle: (*Server).getGateway},
		{method: "GET", path: "/gateway/bot", handle: (*Server).getGatewayBot},
		{method: "GET", path: "/users/@me", handle: (*Server).getMe},
		{method: "GET", path: "/oauth2/applications/@me", handle: (*Server).getApplication},
		{method: "GET", path: "/channels/{channel}", major: 1, handle: (*Server).getChannel},
		{method: "GET", path: "/channels/{channel}/messages", major: 1, handle: (*Server).listMessages},
		{method: "POST", path: "/channels/{channel}/messages", major: 1, handle: (*Server).createMessage},
		{method: "GET", path: "/channels/{channel}/messages/{message}", major: 1, handle: (*Server).getMessage},
		{method: "PATCH", path: "/channels/{channel}/messages/{message}", major: 1, handle: (*Server).editMessage},
		{method: "DELETE", path: "/channels/{channel}/messages/{message}", major: 1, handle: (*Server).deleteMessage},
		{method: "GET", path: "/guilds/{guild}", major: 1, handle: (*Server).getGuild},
		{method: "GET", path: "/guilds/{guild}/channels", major: 1, handle: (*Server).getGuildChannels},
		{method: "GET", path: "/guilds/{guild}/members/{user}", major: 1, handle: (*Server).getGuildMember},
		{method: "POST", path: "/interactions/{interaction}/{token}/callback", auth: authOptional, major: 2, handle: (*Server).interactionCallback},
		{method: "GET", path: "/webhooks/{app}/{token}/messages/@original", auth: authOptional, major: 2, handle: (*Server).getOriginal},
		{method: "PATCH", path: "/webhooks/{app}/{token}/messages/@original", auth: authOptional, major: 2, handle: (*Server).editOriginal},
		{method: "DELETE", path: "/webhooks/{app}/{token}/messages/@original", auth: authOptional, major: 2, handle: (*Server).deleteOriginal},
		{method: "POST", path: "/webhooks/{app}/{token}", auth: authOptional, major: 2, handle: (*Server).createFollowup},
		{method: "GET", path: "/webhooks/{app}/{token}/messages/{message}", auth: authOptional, major: 2, handle: (*Server).getFollowup},
		{method: "PATCH", path: "/webhooks/{app}/{token}/messages/{message}", auth: authOptional, major: 2, handle: (*Server).editFollowup},
		{method: "DELETE", path: "/webhooks/{app}/{token}/messages/{message}", auth: authOptional, major: 2, handle: (*Server).deleteFollowup},
		{method: "GET", path: "/applications/{app}/commands", handle: (*Server).getCommands},
		{method: "PUT", path: "/applications/{app}/commands", handle: (*Server).putCommands},
		{method: "POST", path: "/applications/{app}/commands", handle: (*Server).postCommand},
		{method: "GET", path: "/applications/{app}/commands/{command}", handle: (*Server).getCommand},
		{method: "DELETE", path: "/applications/{app}/commands/{command}", handle: (*Server).deleteCommand},
		{method: "GET", path: "/applications/{app}/guilds/{guild}/commands", handle: (*Server).getCommands},
		{method: "PUT", path: "/applications/{app}/guilds/{guild}/commands", handle: (*Server).putCommands},
		{method: "POST", path: "/applications/{app}/guilds/{guild}/commands", handle: (*Server).postCommand},
		{method: "GET", path: "/applications/{app}/guilds/{guild}/commands/{command}", handle: (*Server).getCommand},
		{method: "DELETE", path: "/applications/{app}/guilds/{guild}/commands/{command}", handle: (*Server).deleteCommand},
	}
	for i := range rs {
		r := &rs[i]
		r.segs = strings.Split(strings.Trim(r.path, "/"), "/")
		sum := sha256.Sum256([]byte(r.method + " " + r.path))
		r.bucket = hex.EncodeToString(sum[:16])
	}
	// Discord sorts nothing, but literal segments must win over
	// parameters; keep the table's order otherwise.
	sort.SliceStable(rs, func(i, j int) bool { return literalRank(rs[i].segs) > literalRank(rs[j].segs) })
	return rs
}

// literalRank scores a pattern so that, among patterns of equal length,
// one with a literal where another has a parameter sorts first.
func literalRank(segs []string) int {
	n := 0
	for _, s := range segs {
		n <<= 1
		if !strings.HasPrefix(s, "{") {
			n |= 1
		}
	}
	return n
}

// getGateway answers GET /gateway.
func (s *Server) getGateway(*call) reply {
	return success(map[string]any{"url": s.wsURL})
}

// getGatewayBot answers GET /gateway/bot.
func (s *Server) getGatewayBot(*call) reply {
	return success(map[string]any{
		"url":    s.wsURL,
		"shards": 1,
		"session_start_limit": map[string]any{
			"total": 1000, "remaining": 1000 - len(s.identifies), "reset_after": 86400000, "max_concurrency": 1,
		},
	})
}

// botUser is the bot's user object.
func (s *Server) botUser() map[string]any {
	return map[string]any{
		"id": s.opts.BotUserID, "username": "briefbot", "discriminator": "0", "global_name": nil,
		"avatar": nil, "bot": true, "public_flags": 0, "flags": 0,
	}
}

// getApplication answers GET /oauth2/applications/@me.
func (s *Server) getApplication(*call) reply {
	owner := map[string]any{
		"id": "1000000000000000001", "username": "owner", "discriminator": "0", "global_name": nil,
		"avatar": nil, "public_flags": 0, "flags": 0,
	}
	return success(map[string]any{
		"id": s.opts.AppID, "name": "briefbot", "icon": nil, "description": "", "summary": "",
		"type": nil, "hook": true, "bot_public": true, "bot_require_code_grant": false,
		"verify_key": s.PublicKey(), "flags": 0, "is_monetized": false, "team": nil,
		"owner": owner, "bot": s.botUser(), "interactions_endpoint_url": nil,
		"redirect_uris": []any{}, "approximate_guild_count": len(s.opts.Guilds),
	})
}

// getMe answers GET /users/@me.
func (s *Server) getMe(*call) reply {
	u := s.botUser()
	u["verified"] = true
	u["mfa_enabled"] = false
	return success(u)
}

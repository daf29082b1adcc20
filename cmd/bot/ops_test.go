package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/briefbot/briefbot/internal/fakediscord"
	"github.com/briefbot/briefbot/internal/fakeopenai"
	"github.com/briefbot/briefbot/sqlstore"
)

// Secrets of the operations tests: no endpoint may show them.
const (
	opsToken  = "tok-SECRET-0123456789"
	opsAPIKey = "sk-test-SECRET-987654321"
)

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// httpGet GETs url and returns the status and body; status 0 means no
// answer.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// waitStatus polls url until it answers status (at most 30 s) and
// returns the body.
func waitStatus(t *testing.T, url string, status int, logs func() string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, body := httpGet(t, url)
		if got == status {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %q, want %d\n%s", url, got, body, status, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// parseMetrics reads Prometheus's text format into a map from series
// (name{labels} as written) to value.
func parseMetrics(t *testing.T, body string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("bad metrics line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// runningBot is `briefbot run` in this process.
type runningBot struct {
	cancel context.CancelFunc
	done   chan error
	errOut *syncBuffer
}

// startRun starts `briefbot run` with args and the CLI's environment and
// clock; stop cancels it as SIGTERM does and returns its error.
func startRun(t *testing.T, c *cli, args ...string) *runningBot {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningBot{cancel: cancel, done: make(chan error, 1), errOut: &syncBuffer{}}
	go func() {
		r.done <- runAt(ctx, append([]string{"--log-level", "warn", "run", "--tick", "1s"}, args...),
			func(k string) string { return c.env[k] }, strings.NewReader(""), io.Discard, r.errOut, c.now)
	}()
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *runningBot) stop() error {
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(60 * time.Second):
		return errors.New("run did not stop within 60s")
	}
}

// TestRunMetrics runs `briefbot run --http-addr` against the fake
// Discord, the feed server and the fake language model, drives polls, a
// /brief, a subscription's scheduled briefing and its delivery (through
// a 429), and checks /healthz, /readyz and the values of /metrics; no
// endpoint shows a secret, and the server stops with run.
func TestRunMetrics(t *testing.T) {
	const guild, channel = "100000000000000001", "200000000000000001"
	srv := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: opsToken, Guilds: []string{guild}})
	srv.AddChannel(fakediscord.Channel{ID: channel, GuildID: guild, Name: "news"})
	ai := fakeopenai.New(t)
	for range 12 {
		ai.Enqueue(fakeopenai.Response{Func: titleReply})
	}
	c := newsCLI(t, korea+"llm:\n  input_price_per_million: 2.5\n  output_price_per_million: 10\n", map[string]string{"DISCORD_TOKEN": opsToken, "BRIEFBOT_DISCORD_API_URL": srv.URL(),
		"OPENAI_BASE_URL": ai.URL(), "OPENAI_API_KEY": opsAPIKey, "BRIEFBOT_MODEL": "test-model"})
	clk := &clock{now: fixtureNow}
	c.now = clk.Now

	// What the three polls store, from a fetch of the same feeds.
	var fetched struct {
		Total fetchTotal `json:"total"`
	}
	out, _, err := newsCLI(t, korea, nil).run("fetch", "--format", "json")
	if err != nil || json.Unmarshal([]byte(out), &fetched) != nil || fetched.Total.Articles == 0 {
		t.Fatalf("fetch: %v\n%s", err, out)
	}

	addr := freeAddr(t)
	base := "http://" + addr
	bot := startRun(t, c, "--http-addr", addr)
	waitStatus(t, base+"/readyz", http.StatusOK, bot.errOut.String)
	if code, body := httpGet(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q, want 200 ok", code, body)
	}
	if code, _ := httpGet(t, base+"/nothing"); code != http.StatusNotFound {
		t.Errorf("/nothing: %d, want 404", code)
	}
	if resp, err := http.Post(base+"/healthz", "text/plain", nil); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz: %v %v, want 405", err, resp)
	} else {
		resp.Body.Close()
	}

	wctx, wcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer wcancel()
	for len(srv.Commands("")) == 0 && wctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	waitPolled(t, c, 3)

	// /brief, with the language model.
	sent, err := srv.SendInteraction(fakediscord.Interaction{Name: "brief", GuildID: guild, ChannelID: channel,
		Options: []fakediscord.Option{fakediscord.StringOption("topic", "korea-talks")}})
	if err != nil {
		t.Fatal(err)
	}
	for {
		m, err := srv.WaitResponseMessage(wctx, sent.ID)
		if err == nil && len(m.Embeds) > 0 {
			break
		}
		if wctx.Err() != nil {
			t.Fatalf("/brief: no briefing: %v\n%s", err, bot.errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A subscription, then its slot: posted once, through one 429.
	sent, err = srv.SendInteraction(fakediscord.Interaction{Name: "subscribe", GuildID: guild, ChannelID: channel,
		Permissions: fakediscord.DefaultPermissions | 1<<4,
		Options:     []fakediscord.Option{fakediscord.StringOption("topic", "korea-talks"), fakediscord.StringOption("schedule", "every 1h"), fakediscord.StringOption("timezone", "UTC")}})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := srv.WaitResponseMessage(wctx, sent.ID); err != nil || !strings.Contains(m.Content, "Subscribed") {
		t.Fatalf("subscribe: %v %q", err, m.Content)
	}
	srv.Inject("POST /channels/*/messages", fakediscord.Fault{Status: http.StatusTooManyRequests, RetryAfter: 0.5})
	before := len(srv.Messages(channel))
	clk.Set(fixtureNow.Add(time.Hour + 30*time.Second)) // the slot is 13:00, 30 s ago
	var metrics map[string]float64
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, body := httpGet(t, base+"/metrics")
		if code != http.StatusOK {
			t.Fatalf("/metrics: %d\n%s", code, body)
		}
		metrics = parseMetrics(t, body)
		if metrics[`briefbot_deliveries_total{outcome="posted"}`] >= 1 && metrics[`briefbot_polls_total{outcome="unchanged"}`] >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery counted\n%s\n%s", body, bot.errOut.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(srv.Messages(channel)) <= before {
		t.Error("the scheduled briefing was not posted")
	}

	want := map[string]float64{
		`briefbot_polls_total{outcome="new"}`:                 3, // each source's first poll
		`briefbot_polls_total{outcome="unchanged"}`:           3, // polled again at the slot
		`briefbot_polls_total{outcome="failed"}`:              0,
		`briefbot_polls_total{outcome="disabled"}`:            0,
		`briefbot_articles_ingested_total`:                    float64(fetched.Total.Articles),
		`briefbot_briefings_built_total{trigger="command"}`:   1,
		`briefbot_briefings_built_total{trigger="schedule"}`:  1,
		`briefbot_briefing_stories_count`:                     2,
		`briefbot_deliveries_total{outcome="posted"}`:         1,
		`briefbot_deliveries_total{outcome="late"}`:           0,
		`briefbot_deliveries_total{outcome="failed"}`:         0,
		`briefbot_deliveries_total{outcome="skipped"}`:        0,
		`briefbot_discord_rate_limits_total`:                  1,
		`briefbot_discord_rate_limit_wait_seconds_total`:      0.5,
		`briefbot_discord_gateway_connected`:                  1,
		`briefbot_llm_calls_total{outcome="ok"}`:              float64(ai.Calls()),
		`briefbot_llm_calls_total{outcome="error"}`:           0,
		`briefbot_llm_fallbacks_total{reason="failed"}`:       0,
		`briefbot_llm_fallbacks_total{reason="budget_spent"}`: 0,
	}
	for series, v := range want {
		if got, ok := metrics[series]; !ok || got != v {
			t.Errorf("%s = %v (present %t), want %v", series, got, ok, v)
		}
	}
	atLeast := map[string]float64{
		`briefbot_llm_calls_total{outcome="ok"}`:                            2, // a story each, for /brief
		`briefbot_llm_tokens_total{kind="prompt"}`:                          1,
		`briefbot_llm_tokens_total{kind="completion"}`:                      1,
		`briefbot_llm_call_duration_seconds_count`:                          2,
		`briefbot_briefing_stories_sum`:                                     2,
		`briefbot_poll_duration_seconds_count`:                              6,
		`briefbot_job_latency_seconds_count{kind="deliver_briefing"}`:       1,
		`briefbot_job_latency_seconds_count{kind="tick"}`:                   2,
		`briefbot_job_queue_depth{kind="poll_source",state="completed"}`:    6,
		`briefbot_job_queue_depth{kind="build_briefing",state="completed"}`: 1,
		`go_goroutines`:                 1,
		`process_resident_memory_bytes`: 1,
		`promhttp_metric_handler_errors_total{cause="gathering"}`: 0,
	}
	for series, v := range atLeast {
		if got, ok := metrics[series]; !ok || got < v {
			t.Errorf("%s = %v (present %t), want at least %v", series, got, ok, v)
		}
	}
	wantCost := (metrics[`briefbot_llm_tokens_total{kind="prompt"}`]*2.5 + metrics[`briefbot_llm_tokens_total{kind="completion"}`]*10) / 1e6
	if got := metrics[`briefbot_llm_cost_usd_total`]; got <= 0 || math.Abs(got-wantCost) > 1e-9 {
		t.Errorf("briefbot_llm_cost_usd_total = %v, want %v (the tokens at 2.5 and 10 USD per million)", got, wantCost)
	}
	if metrics[`briefbot_job_latency_seconds_sum{kind="poll_source"}`] < 0 {
		t.Error("negative job latency")
	}
	if _, ok := metrics[`briefbot_build_info{version="dev"}`]; !ok {
		t.Errorf("no briefbot_build_info{version=\"dev\"}")
	}

	// No endpoint shows a secret.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		_, body := httpGet(t, base+path)
		for _, secret := range []string{opsToken, opsAPIKey} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows a secret", path)
			}
		}
	}

	// Stopped as by SIGTERM: run returns nil and the server is gone.
	if err := bot.stop(); err != nil {
		t.Fatalf("run: %v\n%s", err, bot.errOut.String())
	}
	if code, _ := httpGet(t, base+"/healthz"); code != 0 {
		t.Errorf("/healthz answers %d after run returned", code)
	}
	if strings.Contains(bot.errOut.String(), opsToken) || strings.Contains(bot.errOut.String(), opsAPIKey) {
		t.Errorf("the logs show a secret:\n%s", bot.errOut.String())
	}

	// Every call was recorded for `briefbot status`, under the server.
	var st struct {
		LLM struct {
			Calls        int64   `json:"calls"`
			PromptTokens int64   `json:"prompt_tokens"`
			Cost         float64 `json:"estimated_cost_usd"`
		} `json:"llm"`
	}
	if out, _, err := c.run("status", "--format", "json"); err != nil || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	if st.LLM.Calls != int64(ai.Calls()) || float64(st.LLM.PromptTokens) != metrics[`briefbot_llm_tokens_total{kind="prompt"}`] || math.Abs(st.LLM.Cost-wantCost) > 1e-9 {
		t.Errorf("status shows %d calls, %d prompt tokens, $%v; want %d, %v, $%v", st.LLM.Calls, st.LLM.PromptTokens, st.LLM.Cost, ai.Calls(), metrics[`briefbot_llm_tokens_total{kind="prompt"}`], wantCost)
	}
}

// gatewayProxy stands between briefbot and the fake Discord, and can
// refuse gateway connections: the gateway stays down until up is called.
type gatewayProxy struct {
	srv  *httptest.Server
	down atomic.Bool
}

func newGatewayProxy(t *testing.T, fake *fakediscord.Server) *gatewayProxy {
	t.Helper()
	target, err := url.Parse(fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	p := &gatewayProxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		// GET /gateway names the websocket URL: send it here too.
		if !strings.HasSuffix(resp.Request.URL.Path, "/gateway") && !strings.HasSuffix(resp.Request.URL.Path, "/gateway/bot") {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		b = bytes.ReplaceAll(b, []byte(fake.GatewayURL()), []byte("ws"+strings.TrimPrefix(p.srv.URL, "http")+"/gateway"))
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gateway" && p.down.Load() {
			http.Error(w, "gateway down", http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// TestRunReadyz: /readyz is 503 naming the gateway while the gateway
// cannot be reached, and 200 again once the session is back; /healthz
// stays 200 throughout.
func TestRunReadyz(t *testing.T) {
	const guild = "100000000000000001"
	fake := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: opsToken, Guilds: []string{guild}})
	proxy := newGatewayProxy(t, fake)
	c := newsCLI(t, korea, map[string]string{"DISCORD_TOKEN": opsToken, "BRIEFBOT_DISCORD_API_URL": proxy.srv.URL})
	addr := freeAddr(t)
	c.env[httpAddrEnv] = addr // as the Dockerfile sets it
	base := "http://" + addr
	bot := startRun(t, c)
	waitStatus(t, base+"/readyz", http.StatusOK, bot.errOut.String)

	proxy.down.Store(true)
	fake.DropGateway()
	body := waitStatus(t, base+"/readyz", http.StatusServiceUnavailable, bot.errOut.String)
	if body != "discord: gateway session not connected\n" {
		t.Errorf("/readyz with the gateway down: %q", body)
	}
	if code, _ := httpGet(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz with the gateway down: %d, want 200", code)
	}
	_, m := httpGet(t, base+"/metrics")
	if !strings.Contains(m, "\nbriefbot_discord_gateway_connected 0\n") {
		t.Error("briefbot_discord_gateway_connected is not 0 with the gateway down")
	}

	proxy.down.Store(false)
	waitStatus(t, base+"/readyz", http.StatusOK, bot.errOut.String)
	if err := bot.stop(); err != nil {
		t.Fatalf("run: %v\n%s", err, bot.errOut.String())
	}
}

// TestReadyzChecks: each failing check is one line of the 503, without
// secrets; a closed database fails the database check.
func TestReadyzChecks(t *testing.T) {
	store, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "ready.db"))
	if err != nil {
		t.Fatal(err)
	}
	var queueUp atomic.Bool
	queueUp.Store(true)
	checks := []readyCheck{
		{"database", store.Ping},
		{"discord", func(context.Context) error { return nil }},
		{"jobs", func(context.Context) error {
			if !queueUp.Load() {
				return errors.New("job queue not running")
			}
			return nil
		}},
		{"secret", func(context.Context) error {
			if !queueUp.Load() {
				return errors.New("bad token " + opsToken + "\nsecond line")
			}
			return nil
		}},
	}
	srv := httptest.NewServer(opsHandler(newMetrics("test", 0, 0), checks, secretScrubber(opsToken), discardLogger()))
	defer srv.Close()
	if code, body := httpGet(t, srv.URL+"/readyz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("all checks passing: %d %q", code, body)
	}
	store.Close()
	queueUp.Store(false)
	code, body := httpGet(t, srv.URL+"/readyz")
	want := "database: sqlstore: ping: sql: database is closed\njobs: job queue not running\nsecret: bad token [redacted] second line\n"
	if code != http.StatusServiceUnavailable || body != want {
		t.Errorf("failing checks: %d %q, want 503 %q", code, body, want)
	}
}

// TestOpsServerTimesOutSlowClients: a client that never finishes its
// request headers is cut off after opsReadHeaderTimeout.
func TestOpsServerTimesOutSlowClients(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ops := startOps(ln, opsHandler(newMetrics("test", 0, 0), nil, secretScrubber(), discardLogger()), discardLogger())
	defer ops.stop(context.Background())
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(opsReadHeaderTimeout + 5*time.Second))
	b, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection is still open after %s", time.Since(start))
	}
	if d := time.Since(start); d < opsReadHeaderTimeout-time.Second {
		t.Errorf("cut off after %s, before the header timeout", d)
	}
	if strings.Contains(string(b), "200 OK") {
		t.Errorf("answered an unfinished request: %q", b)
	}
}

// TestHealthcheckBinary runs the built binary as Docker would: `briefbot
// run` with BRIEFBOT_HTTP_ADDR, `briefbot healthcheck` exiting 0 while it
// runs; SIGTERM stops run (exit 0) and its server, and healthcheck then
// exits 1.
func TestHealthcheckBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	fake := fakediscord.New(t, fakediscord.Options{AppID: "300000000000000001", BotUserID: "300000000000000001", Token: opsToken})
	dir := t.TempDir()
	cfg := writeFile(t, dir, "briefbot.yaml", "database: "+filepath.Join(dir, "b.db")+"\nsources: []\n"+korea)
	addr := freeAddr(t)
	env := append(os.Environ(), "BRIEFBOT_CONFIG="+cfg, "DISCORD_TOKEN="+opsToken, "BRIEFBOT_DISCORD_API_URL="+fake.URL(), httpAddrEnv+"="+addr)
	var runOut bytes.Buffer
	run := exec.Command(bin, "run")
	run.Env, run.Stdout, run.Stderr = env, &runOut, &runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	defer func() {
		run.Process.Kill()
	}()
	healthcheck := func() (int, string) {
		hc := exec.Command(bin, "healthcheck")
		hc.Env = env
		out, err := hc.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, out := healthcheck()
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthcheck still exits %d: %s\nrun:\n%s", code, out, runOut.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	waitStatus(t, "http://"+addr+"/readyz", http.StatusOK, func() string { return "" })

	if err := run.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("run after SIGTERM: %v\n%s", err, runOut.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("run did not stop within 60s of SIGTERM")
	}
	code, out := healthcheck()
	if code != 1 || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "briefbot: healthcheck http://"+addr+"/healthz: ") {
		t.Errorf("healthcheck after run stopped: exit %d, %q; want exit 1 with one line", code, out)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

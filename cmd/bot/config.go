package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/llm"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/jackc/pgx/v5"
)

// Config is briefbot's configuration: the YAML file, then environment
// overrides, then defaults. Secrets come from the environment only.
type Config struct {
	Database string         `yaml:"database"`
	Sources  []SourceConfig `yaml:"sources"`
	Topics   []TopicConfig  `yaml:"topics"`
	Fetch    FetchConfig    `yaml:"fetch"`
	Discord  DiscordConfig  `yaml:"discord"`
	Schedule ScheduleConfig `yaml:"schedule"`
	Jobs     JobsConfig     `yaml:"jobs"`
	LLM      LLMConfig      `yaml:"llm"`

	// DiscordToken and OpenAIKey come from DISCORD_TOKEN and OPENAI_API_KEY.
	DiscordToken string `yaml:"-"`
	// DiscordPublicKey (DISCORD_PUBLIC_KEY) verifies HTTP interactions.
	DiscordPublicKey string `yaml:"-"`
	OpenAIKey        string `yaml:"-"`
	// File is the config file read, or "" when built-in defaults apply.
	File string `yaml:"-"`
	// DefaultSources is set when Sources are the built-in defaults.
	DefaultSources bool `yaml:"-"`
	// DefaultTopics is set when Topics are the built-in defaults.
	DefaultTopics bool `yaml:"-"`

	// envErrs are environment overrides that did not parse.
	envErrs []fieldError
	// fromEnv names the environment variable that set a YAML path
	// ("$.discord.shard_id": "BRIEFBOT_SHARD_ID"), for messages.
	fromEnv map[string]string
}

// TopicConfig is one entry of the `topics:` list.
type TopicConfig struct {
	Name  string `yaml:"name"`
	Query string `yaml:"query"`
}

// SourceConfig is one entry of the `sources:` list.
type SourceConfig struct {
	Name         string `yaml:"name"`
	URL          string `yaml:"url"`
	Interval     string `yaml:"interval,omitempty"`
	AllowPrivate bool   `yaml:"allow_private,omitempty"`

	interval time.Duration
}

// FetchConfig tunes polling.
type FetchConfig struct {
	Timeout         string `yaml:"timeout,omitempty"`       // per request, default 30s
	MaxBodyMB       int    `yaml:"max_body_mb,omitempty"`   // per body, decompressed, default 10
	PerHost         int    `yaml:"per_host,omitempty"`      // requests at once per host, default 2
	Concurrency     int    `yaml:"concurrency,omitempty"`   // sources polled at once, default 32
	DisableAfter    int    `yaml:"disable_after,omitempty"` // consecutive failures, default 10
	PageFetches     int    `yaml:"page_fetches,omitempty"`  // article pages per source per poll, default 30
	DefaultInterval string `yaml:"interval,omitempty"`      // default source interval, default 15m

	timeout, interval time.Duration
}

// DiscordConfig configures the Discord connection (used by `briefbot run`).
type DiscordConfig struct {
	APIURL  string `yaml:"api_url,omitempty"`
	GuildID string `yaml:"guild_id,omitempty"`
	// Per-guild limits on what chat users may add.
	MaxTopics        int `yaml:"max_topics,omitempty"`
	MaxSources       int `yaml:"max_sources,omitempty"`
	MaxSubscriptions int `yaml:"max_subscriptions,omitempty"`
	// Gateway sharding: this replica connects as shard ShardID of
	// ShardCount (0 or 1 means unsharded).
	ShardID    int `yaml:"shard_id,omitempty"`
	ShardCount int `yaml:"shard_count,omitempty"`
}

// ScheduleConfig tunes scheduled briefings.
type ScheduleConfig struct {
	// MinInterval is the shortest time allowed between a schedule's slots.
	MinInterval string `yaml:"min_interval,omitempty"`
	// CatchUpWindow is how late a missed slot may still be posted, once.
	CatchUpWindow string `yaml:"catchup_window,omitempty"`

	minInterval, catchUpWindow time.Duration
}

// JobsConfig tunes the durable job queue (used by `briefbot run`).
type JobsConfig struct {
	// RescueAfter is how long a job may run before it is taken for dead
	// (its process killed) and run again.
	RescueAfter string `yaml:"rescue_after,omitempty"`
	// DrainTimeout bounds how long a shutdown waits for running jobs.
	DrainTimeout string `yaml:"drain_timeout,omitempty"`

	rescueAfter, drainTimeout time.Duration
}

// LLMConfig configures the OpenAI-compatible summarizer. It is used when
// OPENAI_API_KEY or base_url is set; otherwise briefings are extractive.
type LLMConfig struct {
	BaseURL      string `yaml:"base_url,omitempty"`
	Model        string `yaml:"model,omitempty"`
	Timeout      string `yaml:"timeout,omitempty"`       // per request, default 60s
	InputBudget  int    `yaml:"input_budget,omitempty"`  // prompt tokens per briefing, default 24000
	OutputBudget int    `yaml:"output_budget,omitempty"` // completion tokens per briefing, default 4000
	PromptsDir   string `yaml:"prompts_dir,omitempty"`   // templates overriding the embedded ones
	// APIType is "openai" or "azure"; empty: azure for an Azure host name.
	APIType string `yaml:"api_type,omitempty"`
	// APIVersion is Azure OpenAI's api-version (default llm.DefaultAzureAPIVersion).
	APIVersion string `yaml:"api_version,omitempty"`
	// Headers go with every request (OpenRouter's HTTP-Referer, X-Title).
	Headers map[string]string `yaml:"headers,omitempty"`
	// MaxTokensParam is auto, max_tokens or max_completion_tokens.
	MaxTokensParam string `yaml:"max_tokens_param,omitempty"`
	// MaxOutputTokens is the completion limit of each call; 0 derives it.
	MaxOutputTokens int `yaml:"max_output_tokens,omitempty"`
	// GuildMonthlyTokens caps each Discord server's tokens per UTC month; 0: no cap.
	GuildMonthlyTokens int `yaml:"guild_monthly_tokens,omitempty"`
	// InputPrice and OutputPrice are US dollars per million prompt and
	// completion tokens, for the cost estimate; 0: no estimate.
	InputPrice  float64 `yaml:"input_price_per_million,omitempty"`
	OutputPrice float64 `yaml:"output_price_per_million,omitempty"`

	timeout time.Duration
}

// LLMEnabled reports whether briefings use the language model.
func (c *Config) LLMEnabled() bool { return c.OpenAIKey != "" || c.LLM.BaseURL != "" }

// defaultSources are reputable world-news feeds, several covering Korea and
// East Asia, used when no config file names sources.
var defaultSources = []SourceConfig{
	{Name: "bbc-world", URL: "https://feeds.bbci.co.uk/news/world/rss.xml"},
	{Name: "bbc-asia", URL: "https://feeds.bbci.co.uk/news/world/asia/rss.xml"},
	{Name: "npr-world", URL: "https://feeds.npr.org/1004/rss.xml"},
	{Name: "dw-world", URL: "https://rss.dw.com/rdf/rss-en-world"},
	{Name: "aljazeera", URL: "https://www.aljazeera.com/xml/rss/all.xml"},
	{Name: "guardian-world", URL: "https://www.theguardian.com/world/rss"},
	{Name: "france24", URL: "https://www.france24.com/en/rss"},
	{Name: "un-news", URL: "https://news.un.org/feed/subscribe/en/news/all/rss.xml"},
	{Name: "yonhap", URL: "https://en.yna.co.kr/RSS/news.xml"},
	{Name: "nknews", URL: "https://www.nknews.org/feed/"},
	{Name: "the-diplomat", URL: "https://thediplomat.com/feed/"},
	{Name: "38north", URL: "https://www.38north.org/feed/"},
}

// defaultTopics are used when no config file names topics.
var defaultTopics = []TopicConfig{
	{Name: "korea-talks", Query: `"north korea" OR pyongyang OR "kim jong un" OR denuclearization -football -soccer`},
}

const defaultConfigFile = "briefbot.yaml"

var sourceNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// loadConfig reads the config file named by flagPath, else BRIEFBOT_CONFIG,
// else ./briefbot.yaml if present, else uses defaults; then applies
// environment overrides and validates.
func loadConfig(flagPath string, getenv func(string) string) (*Config, error) {
	path, required := flagPath, true
	if path == "" {
		path = getenv("BRIEFBOT_CONFIG")
	}
	if path == "" {
		path, required = defaultConfigFile, false
	}
	cfg := &Config{}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		cfg.File = path
		if err := decodeConfig(path, data, cfg); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist) && !required:
		// No file at all: built-in defaults.
	default:
		return nil, fmt.Errorf("config: %w (set --config or BRIEFBOT_CONFIG to a readable YAML file)", err)
	}
	applyEnv(cfg, getenv)
	applyDefaults(cfg)
	if errs := validate(cfg); len(errs) > 0 {
		return nil, configErrors(cfg.File, data, errs)
	}
	return cfg, nil
}

func decodeConfig(path string, data []byte, cfg *Config) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.Strict())
	if err := dec.Decode(cfg); err != nil {
		// The message quotes the lines around the error, where URLs may
		// carry credentials: quote them from a copy with those hidden.
		masked := urlPattern.ReplaceAllFunc(data, func(u []byte) []byte { return []byte(redact(string(u))) })
		if merr := yaml.NewDecoder(bytes.NewReader(masked), yaml.Strict()).Decode(&Config{}); merr != nil {
			return fmt.Errorf("config %s: %s", path, yaml.FormatError(merr, false, true))
		}
		return fmt.Errorf("config %s: %s", path, yaml.FormatError(err, false, false))
	}
	return nil
}

// urlPattern matches a URL in YAML text, up to a space or a quote.
var urlPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s'"]+`)

func applyEnv(cfg *Config, getenv func(string) string) {
	cfg.fromEnv = map[string]string{}
	set := func(dst *string, key, path string) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			*dst = v
			if path != "" {
				cfg.fromEnv[path] = key
			}
		}
	}
	set(&cfg.Database, "BRIEFBOT_DATABASE", "$.database")
	set(&cfg.Discord.APIURL, "BRIEFBOT_DISCORD_API_URL", "$.discord.api_url")
	set(&cfg.LLM.BaseURL, "OPENAI_BASE_URL", "$.llm.base_url")
	set(&cfg.LLM.Model, "BRIEFBOT_MODEL", "$.llm.model")
	set(&cfg.LLM.APIVersion, "OPENAI_API_VERSION", "$.llm.api_version")
	set(&cfg.DiscordToken, "DISCORD_TOKEN", "")
	// Guides show the token as "Bot xyz"; briefbot adds the prefix itself,
	// and scrubs the bare token from what it prints.
	if t := cfg.DiscordToken; len(t) > 4 && strings.EqualFold(t[:4], "bot ") {
		cfg.DiscordToken = strings.TrimSpace(t[4:])
	}
	set(&cfg.DiscordPublicKey, "DISCORD_PUBLIC_KEY", "")
	setInt := func(dst *int, key, path string) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			cfg.fromEnv[path] = key
			n, err := strconv.Atoi(v)
			if err != nil {
				cfg.envErrs = append(cfg.envErrs, fieldError{path: path, env: key, msg: fmt.Sprintf("%q is not a whole number", v)})
				return
			}
			*dst = n
		}
	}
	setInt(&cfg.Discord.ShardID, "BRIEFBOT_SHARD_ID", "$.discord.shard_id")
	setInt(&cfg.Discord.ShardCount, "BRIEFBOT_SHARD_COUNT", "$.discord.shard_count")
	setInt(&cfg.LLM.GuildMonthlyTokens, "BRIEFBOT_GUILD_MONTHLY_TOKENS", "$.llm.guild_monthly_tokens")
	set(&cfg.OpenAIKey, "OPENAI_API_KEY", "")
}

func applyDefaults(cfg *Config) {
	if cfg.Database == "" {
		cfg.Database = "briefbot.db"
	}
	if cfg.Sources == nil {
		cfg.Sources = append([]SourceConfig(nil), defaultSources...)
		cfg.DefaultSources = true
	}
	f := &cfg.Fetch
	if f.Timeout == "" {
		f.Timeout = "30s"
	}
	if f.DefaultInterval == "" {
		f.DefaultInterval = "15m"
	}
	zero := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	zero(&f.MaxBodyMB, 10)
	zero(&f.PerHost, 2)
	zero(&f.Concurrency, 32)
	zero(&f.DisableAfter, 10)
	zero(&f.PageFetches, 30)
	if cfg.Discord.APIURL == "" {
		cfg.Discord.APIURL = "https://discord.com"
	}
	if cfg.Topics == nil {
		cfg.Topics = append([]TopicConfig(nil), defaultTopics...)
		cfg.DefaultTopics = true
	}
	zero(&cfg.Discord.MaxTopics, 25)
	zero(&cfg.Discord.MaxSources, 25)
	zero(&cfg.Discord.MaxSubscriptions, 25)
	if cfg.Schedule.MinInterval == "" {
		cfg.Schedule.MinInterval = "1h"
	}
	if cfg.Schedule.CatchUpWindow == "" {
		cfg.Schedule.CatchUpWindow = "6h"
	}
	if cfg.Jobs.RescueAfter == "" {
		cfg.Jobs.RescueAfter = "10m"
	}
	if cfg.Jobs.DrainTimeout == "" {
		cfg.Jobs.DrainTimeout = "30s"
	}
	if cfg.LLM.BaseURL == "" && cfg.OpenAIKey != "" {
		cfg.LLM.BaseURL = "https://api.openai.com/v1"
	}
	if cfg.LLM.Model == "" {
		cfg.LLM.Model = "gpt-4o-mini"
	}
	if cfg.LLM.APIVersion == "" {
		cfg.LLM.APIVersion = llm.DefaultAzureAPIVersion
	}
	if cfg.LLM.MaxTokensParam == "" {
		cfg.LLM.MaxTokensParam = "auto"
	}
	if cfg.LLM.Timeout == "" {
		cfg.LLM.Timeout = "60s"
	}
	zero(&cfg.LLM.InputBudget, 24000)
	zero(&cfg.LLM.OutputBudget, 4000)
}

// validateLLM checks the provider settings of the llm section.
func validateLLM(cfg *Config, bad func(path, format string, args ...any)) {
	l := &cfg.LLM
	switch l.APIType {
	case "", llm.APITypeOpenAI, llm.APITypeAzure:
	default:
		bad("$.llm.api_type", "%q is not an API type: want openai or azure (or leave it out to detect Azure by its host name)", l.APIType)
	}
	switch l.MaxTokensParam {
	case "", "auto", llm.TokenParamMaxCompletionTokens:
	case llm.TokenParamMaxTokens:
		if llm.ReasoningModel(l.Model) {
			bad("$.llm.max_tokens_param", "model %q is one of OpenAI's reasoning models, which refuse max_tokens: use max_completion_tokens or auto", l.Model)
		}
	default:
		bad("$.llm.max_tokens_param", "%q: want auto, max_tokens or max_completion_tokens", l.MaxTokensParam)
	}
	if l.MaxOutputTokens > 0 && l.OutputBudget > 0 && l.MaxOutputTokens > l.OutputBudget {
		bad("$.llm.max_output_tokens", "%d is more than llm.output_budget (%d), the completion tokens of a whole briefing: no call would fit; raise output_budget", l.MaxOutputTokens, l.OutputBudget)
	}
	for _, name := range slices.Sorted(maps.Keys(l.Headers)) {
		p := "$.llm.headers." + name
		switch canon := http.CanonicalHeaderKey(name); {
		case !validHeaderName(name):
			bad(p, "%q is not a valid HTTP header name", name)
		case canon == "Authorization" || canon == "Api-Key" || canon == "Proxy-Authorization" || canon == "Cookie":
			bad(p, "credentials do not belong in the config file: set OPENAI_API_KEY")
		case canon == "Host" || canon == "Content-Type" || canon == "Content-Length":
			bad(p, "briefbot sets %s itself", canon)
		case strings.ContainsAny(l.Headers[name], "\r\n\x00"):
			bad(p, "the value holds a line break or NUL")
		}
	}
	for _, kv := range []struct {
		key string
		v   float64
	}{{"input_price_per_million", l.InputPrice}, {"output_price_per_million", l.OutputPrice}} {
		if kv.v < 0 || math.IsNaN(kv.v) || math.IsInf(kv.v, 0) {
			bad("$.llm."+kv.key, "%v: want US dollars per million tokens, 0 or more", kv.v)
		}
	}
}

// validHeaderName reports whether name is an HTTP header field name (a
// token of RFC 9110).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// fieldError is a validation failure at a YAML path such as
// "$.sources[2].interval".
type fieldError struct {
	path string
	// env names the environment variable the value came from, if any.
	env string
	msg string
}

func validate(cfg *Config) []fieldError {
	errs := append([]fieldError(nil), cfg.envErrs...)
	bad := func(path, format string, args ...any) {
		errs = append(errs, fieldError{path: path, env: cfg.fromEnv[path], msg: fmt.Sprintf(format, args...)})
	}
	f := &cfg.Fetch
	var err error
	if f.timeout, err = parseDuration(f.Timeout, time.Second, time.Hour); err != nil {
		bad("$.fetch.timeout", "%v", err)
	}
	if f.interval, err = parseDuration(f.DefaultInterval, time.Minute, 7*24*time.Hour); err != nil {
		bad("$.fetch.interval", "%v", err)
	}
	for _, kv := range []struct {
		key string
		v   int
	}{{"max_body_mb", f.MaxBodyMB}, {"per_host", f.PerHost}, {"concurrency", f.Concurrency}, {"disable_after", f.DisableAfter}, {"page_fetches", f.PageFetches}} {
		key, v := kv.key, kv.v
		if v < 0 || v > 10000 {
			bad("$.fetch."+key, "%d is out of range: want 1 to 10000 (or leave it out for the default)", v)
		}
	}
	if err := checkDatabase(cfg.Database); err != nil {
		bad("$.database", "%v", err)
	}
	if err := checkHTTPURL(cfg.Discord.APIURL); err != nil {
		bad("$.discord.api_url", "%v", err)
	}
	if g := cfg.Discord.GuildID; g != "" && !guildIDPattern.MatchString(g) {
		bad("$.discord.guild_id", "%q is not a Discord server ID: want its 17 to 20 digits (Developer Mode on, then right-click the server, Copy Server ID), or leave it out to register the commands in every server", g)
	}
	if cfg.LLM.BaseURL != "" {
		if err := checkHTTPURL(cfg.LLM.BaseURL); err != nil {
			bad("$.llm.base_url", "%v", err)
		}
	}
	if cfg.Schedule.minInterval, err = parseDuration(cfg.Schedule.MinInterval, time.Minute, 7*24*time.Hour); err != nil {
		bad("$.schedule.min_interval", "%v", err)
	}
	if cfg.Schedule.catchUpWindow, err = parseDuration(cfg.Schedule.CatchUpWindow, time.Minute, 7*24*time.Hour); err != nil {
		bad("$.schedule.catchup_window", "%v", err)
	}
	switch d := cfg.Discord; {
	case d.ShardCount < 0 || d.ShardCount > 1000:
		bad("$.discord.shard_count", "%d is out of range: want 1 to 1000 (or leave it out for no sharding)", d.ShardCount)
	case d.ShardID < 0 || (d.ShardID > 0 && d.ShardID >= max(d.ShardCount, 1)):
		bad("$.discord.shard_id", "%d is out of range: want 0 to shard_count-1 (%d)", d.ShardID, max(d.ShardCount, 1)-1)
	}
	if cfg.Jobs.rescueAfter, err = parseDuration(cfg.Jobs.RescueAfter, 10*time.Second, 24*time.Hour); err != nil {
		bad("$.jobs.rescue_after", "%v", err)
	}
	if cfg.Jobs.drainTimeout, err = parseDuration(cfg.Jobs.DrainTimeout, time.Second, 10*time.Minute); err != nil {
		bad("$.jobs.drain_timeout", "%v", err)
	}
	for _, kv := range []struct {
		key string
		v   int
	}{{"max_topics", cfg.Discord.MaxTopics}, {"max_sources", cfg.Discord.MaxSources}, {"max_subscriptions", cfg.Discord.MaxSubscriptions}} {
		key, v := kv.key, kv.v
		if v < 0 || v > 1000 {
			bad("$.discord."+key, "%d is out of range: want 1 to 1000 (or leave it out for the default)", v)
		}
	}
	if cfg.LLM.timeout, err = parseDuration(cfg.LLM.Timeout, time.Second, 10*time.Minute); err != nil {
		bad("$.llm.timeout", "%v", err)
	}
	validateLLM(cfg, bad)
	for _, kv := range []struct {
		key string
		v   int
	}{{"input_budget", cfg.LLM.InputBudget}, {"output_budget", cfg.LLM.OutputBudget}, {"max_output_tokens", cfg.LLM.MaxOutputTokens}, {"guild_monthly_tokens", cfg.LLM.GuildMonthlyTokens}} {
		key, v := kv.key, kv.v
		if v < 0 {
			bad("$.llm."+key, "%d is negative: want a number of tokens (or leave it out for the default)", v)
		}
	}
	topics := map[string]int{}
	for i := range cfg.Topics {
		tc := &cfg.Topics[i]
		p := fmt.Sprintf("$.topics[%d]", i)
		tc.Name = strings.TrimSpace(tc.Name)
		checkName(bad, "topic", p, tc.Name, i, topics)
		if _, err := digest.ParseQuery(tc.Query); err != nil {
			bad(p+".query", "topic %q: %v", tc.Name, err)
		}
	}
	names, urls := map[string]int{}, map[string]int{}
	for i := range cfg.Sources {
		s := &cfg.Sources[i]
		p := fmt.Sprintf("$.sources[%d]", i)
		s.Name = strings.TrimSpace(s.Name)
		checkName(bad, "source", p, s.Name, i, names)
		if err := checkHTTPURL(s.URL); err != nil {
			bad(p+".url", "source %q: %v", s.Name, err)
		} else if j, dup := urls[s.URL]; dup {
			bad(p+".url", "source %q: URL is already used by sources[%d]", s.Name, j)
		}
		urls[s.URL] = i
		s.interval = f.interval
		if s.Interval != "" {
			if s.interval, err = parseDuration(s.Interval, time.Minute, 7*24*time.Hour); err != nil {
				bad(p+".interval", "source %q: %v", s.Name, err)
			}
		}
	}
	return errs
}

// checkName validates the name of list entry i (a source or topic at
// YAML path p), recording it in seen to catch duplicates.
func checkName(bad func(path, format string, args ...any), kind, p, name string, i int, seen map[string]int) {
	switch {
	case name == "":
		bad(p, "%s has no name: add `name: short-name`", kind)
	case !sourceNamePattern.MatchString(name):
		bad(p+".name", "%s name %q: use 1-64 lower-case letters, digits, '.', '_' or '-'", kind, name)
	}
	if j, dup := seen[name]; dup && name != "" {
		bad(p+".name", "%s name %q is already used by %ss[%d]", kind, name, kind, j)
	}
	seen[name] = i
}

func parseDuration(s string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("bad duration %q: want a number with a unit, such as 90s, 15m or 2h", s)
	}
	if d < lo || d > hi {
		return 0, fmt.Errorf("duration %s is out of range: want %s to %s", s, shortDuration(lo), shortDuration(hi))
	}
	return d, nil
}

// guildIDPattern matches a Discord snowflake as server IDs are written.
var guildIDPattern = regexp.MustCompile(`^[0-9]{17,20}$`)

// schemePattern matches a URL scheme (RFC 3986).
var schemePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)

// keywordDSN matches a PostgreSQL keyword/value connection string
// ("host=db user=bot dbname=briefbot").
var keywordDSN = regexp.MustCompile(`(?:^|\s)(?:host|hostaddr|port|dbname|user|password|sslmode|connect_timeout|application_name|service)\s*=`)

// encodeHint tells how to write a password that breaks a URL.
const encodeHint = "percent-encode special characters in the user name and password (# → %23, ? → %3F, / → %2F, @ → %40)"

// checkDatabase accepts a SQLite file path or a PostgreSQL URL that pgx
// parses, as sqlstore.Open would. Its errors never quote the value, which
// may hold a password.
func checkDatabase(dsn string) error {
	switch scheme, _, found := strings.Cut(dsn, "://"); {
	case isPostgres(dsn):
		// A #, ? or @ left in the password parses, as something else:
		// the password cut short, or another host.
		if at := strings.LastIndex(dsn, "@"); at >= 0 {
			_, userinfo, _ := strings.Cut(dsn[:at], "://")
			q := strings.IndexByte(userinfo, '?')
			inQuery := q >= 0 && strings.Contains(userinfo[:q], "/") // the @ is in a parameter
			if !inQuery && strings.ContainsAny(userinfo, "#?@/ ") {
				return fmt.Errorf("not a valid PostgreSQL URL: the user name or password holds a #, ?, @, / or space; %s", encodeHint)
			}
		}
		if _, err := pgx.ParseConfig(dsn); err != nil {
			reason := "it does not parse"
			// pgconn's message quotes the URL, password masked on a best
			// effort basis: keep only what follows it.
			if msg := err.Error(); strings.HasPrefix(msg, "cannot parse `") {
				// Its last part may quote the URL's text raw: keep it only
				// when it quotes nothing.
				if i := strings.LastIndex(msg, "`: "); i >= 0 && !strings.ContainsRune(msg[i+3:], '"') {
					reason = msg[i+3:]
				}
			}
			return fmt.Errorf("not a valid PostgreSQL URL: %s; %s", reason, encodeHint)
		}
	case found && schemePattern.MatchString(scheme):
		return fmt.Errorf("a %s:// URL is not a SQLite file path or a postgres:// URL", scheme)
	case found:
		return errors.New("not a SQLite file path or a postgres:// URL")
	case keywordDSN.MatchString(dsn):
		return fmt.Errorf("PostgreSQL keyword/value strings (host=… user=…) are not supported: write it as a URL, postgres://user:password@host:5432/dbname?sslmode=require, and %s", encodeHint)
	}
	return nil
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("bad URL %q: want an absolute http:// or https:// URL", redact(s))
	}
	return nil
}

// configErrors joins validation errors, each prefixed with file:line when
// the value came from the file.
func configErrors(file string, data []byte, errs []fieldError) error {
	var root *ast.File
	if file != "" {
		root, _ = parser.ParseBytes(data, 0)
	}
	var b strings.Builder
	for i, e := range errs {
		if i > 0 {
			b.WriteByte('\n')
		}
		key := strings.TrimPrefix(e.path, "$.")
		where := "config"
		switch line := lineOf(root, e.path); {
		case e.env != "":
			key += " (from $" + e.env + ")"
		case line > 0:
			where = fmt.Sprintf("config %s:%d", file, line)
		case file != "":
			where = fmt.Sprintf("config %s", file)
		}
		fmt.Fprintf(&b, "%s: %s: %s", where, key, e.msg)
	}
	return errors.New(b.String())
}

func lineOf(root *ast.File, path string) int {
	if root == nil {
		return 0
	}
	p, err := yaml.PathString(path)
	if err != nil {
		return 0
	}
	n, err := p.FilterFile(root)
	if err != nil || n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
}

// mask hides a secret, saying only whether it is set.
func mask(secret string) string {
	if secret == "" {
		return "(not set)"
	}
	return "(set, masked)"
}

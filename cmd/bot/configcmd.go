package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"
)

func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Inspect the configuration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and print the effective config, secrets masked",
		Long: `Validate the config file (or the built-in defaults) with environment
overrides applied, and print the effective configuration. Secrets
(DISCORD_TOKEN, OPENAI_API_KEY) are shown only as set or not set, and
the credentials in URLs (database, sources, llm.base_url,
discord.api_url) as xxxxx.
Exits non-zero, naming file and line, when the config is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(a.configPath, a.getenv)
			if err != nil {
				return err
			}
			// URLs may carry credentials: a PostgreSQL password, a
			// feed's or a proxy's user:password.
			shown := *cfg
			shown.Database = redact(cfg.Database)
			shown.Sources = make([]SourceConfig, len(cfg.Sources))
			for i, sc := range cfg.Sources {
				sc.URL = redact(sc.URL)
				shown.Sources[i] = sc
			}
			shown.LLM.BaseURL = redact(cfg.LLM.BaseURL)
			shown.Discord.APIURL = redact(cfg.Discord.APIURL)
			out, err := yaml.Marshal(&shown)
			if err != nil {
				return err
			}
			from := "built-in defaults (no config file)"
			if cfg.File != "" {
				from = cfg.File
			}
			if cfg.File != "" && cfg.DefaultSources {
				from += " (sources: built-in defaults)"
			}
			summarizer, warning := summarizerLine(cfg)
			if warning != "" {
				warning = "# warning: " + warning + "\n"
			}
			_, err = fmt.Fprintf(a.stdout, "# config OK: %s\n# secrets from the environment:\n#   DISCORD_TOKEN: %s\n#   OPENAI_API_KEY: %s\n#   DISCORD_PUBLIC_KEY: %s\n# summarizer: %s\n%s%s",
				from, mask(cfg.DiscordToken), mask(cfg.OpenAIKey), mask(cfg.DiscordPublicKey), summarizer, warning, out)
			return err
		},
	})
	return cmd
}

// summarizerLine says which summarizer briefings will use under cfg, and
// warns when a hosted provider that needs a key has none: every call would
// be refused and every briefing would fall back to extractive.
func summarizerLine(cfg *Config) (line, warning string) {
	if !cfg.LLMEnabled() {
		return "extractive (no OPENAI_API_KEY or llm.base_url)", ""
	}
	key := "OPENAI_API_KEY set"
	if cfg.OpenAIKey == "" {
		key = "OPENAI_API_KEY not set"
	}
	line = fmt.Sprintf("language model %s at %s (%s)", cfg.LLM.Model, redact(cfg.LLM.BaseURL), key)
	if cfg.OpenAIKey == "" {
		if host := keyedHost(cfg.LLM.BaseURL); host != "" {
			warning = fmt.Sprintf("llm.base_url is %s, which needs an API key, and OPENAI_API_KEY is not set: every briefing will fall back to extractive. Set OPENAI_API_KEY, or remove llm.base_url for extractive briefings", host)
		}
	}
	return line, warning
}

// keyedHost returns the host of baseURL when it is a hosted provider that
// refuses requests without an API key (OpenAI, Azure OpenAI, OpenRouter),
// else "".
func keyedHost(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	for _, name := range []string{"api.openai.com", "openrouter.ai", "openai.azure.com", "cognitiveservices.azure.com"} {
		if host == name || strings.HasSuffix(host, "."+name) {
			return host
		}
	}
	return ""
}

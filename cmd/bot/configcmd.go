package main

import (
	"fmt"

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
			_, err = fmt.Fprintf(a.stdout, "# config OK: %s\n# secrets from the environment:\n#   DISCORD_TOKEN: %s\n#   OPENAI_API_KEY: %s\n#   DISCORD_PUBLIC_KEY: %s\n%s",
				from, mask(cfg.DiscordToken), mask(cfg.OpenAIKey), mask(cfg.DiscordPublicKey), out)
			return err
		},
	})
	return cmd
}

package main

import "testing"

// A token pasted with its "Bot " prefix is used, and scrubbed from what
// briefbot prints, without it.
func TestDiscordTokenBotPrefix(t *testing.T) {
	for in, want := range map[string]string{"Bot abc.def": "abc.def", "  Bot  abc.def ": "abc.def", "abc.def": "abc.def", "bot abc.def": "abc.def", "BOT abc.def": "abc.def", "Bottle": "Bottle"} {
		env := map[string]string{"DISCORD_TOKEN": in, "BRIEFBOT_CONFIG": ""}
		cfg, err := loadConfig("", func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		if cfg.DiscordToken != want {
			t.Errorf("DISCORD_TOKEN=%q: token %q, want %q", in, cfg.DiscordToken, want)
		}
	}
}

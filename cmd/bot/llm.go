package main

import (
	"context"
	"log/slog"

	"github.com/briefbot/briefbot/digest"
	"github.com/briefbot/briefbot/llm"
	"github.com/briefbot/briefbot/prompts"
)

// newLLM builds the language-model summarizer from the config: prompts
// (embedded, or overridden from llm.prompts_dir), the summary cache, and
// the endpoint settings. cache and onCall may be nil.
func newLLM(cfg *Config, cache digest.SummaryCache, log *slog.Logger, onCall func(context.Context, llm.Call)) (*llm.Summarizer, error) {
	ps := prompts.Default()
	if cfg.LLM.PromptsDir != "" {
		var err error
		if ps, err = prompts.Load(cfg.LLM.PromptsDir); err != nil {
			return nil, err
		}
	}
	return llm.New(llm.Config{
		BaseURL: cfg.LLM.BaseURL,
		APIKey:  cfg.OpenAIKey,
		Model:   cfg.LLM.Model,
		Timeout: cfg.LLM.timeout,
		OnCall:  onCall,

		APIType:         cfg.LLM.APIType,
		APIVersion:      cfg.LLM.APIVersion,
		Headers:         cfg.LLM.Headers,
		TokenParam:      tokenParam(cfg.LLM.MaxTokensParam),
		MaxOutputTokens: cfg.LLM.MaxOutputTokens,
	}, ps, cache, log), nil
}

// tokenParam maps llm.max_tokens_param to llm.Config.TokenParam.
func tokenParam(v string) string {
	if v == "auto" {
		return ""
	}
	return v
}

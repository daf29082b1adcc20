package main

import (
	"strings"
	"testing"

	"github.com/briefbot/briefbot/internal/fakeopenai"
)

// TestProviderRecipes runs `briefbot brief` with each provider recipe of
// the README (its environment variables and llm settings), against the
// fake OpenAI-compatible server standing in for the provider, and checks
// what the provider would see: the URL path and api-version, the
// credentials header, extra headers, the model and which completion-limit
// field is sent. Every recipe must produce a language-model briefing.
func TestProviderRecipes(t *testing.T) {
	type want struct {
		path, query, model string
		header             map[string]string // "" means absent
		completionField    bool              // max_completion_tokens, else max_tokens
	}
	tests := []struct {
		name string
		env  map[string]string // {URL} is the fake's /v1 base, {ROOT} its root
		yaml string
		want want
	}{
		{"openai", map[string]string{"OPENAI_BASE_URL": "{URL}", "OPENAI_API_KEY": "sk-recipe"}, "",
			want{path: "/v1/chat/completions", model: "gpt-4o-mini", header: map[string]string{"Authorization": "Bearer sk-recipe", "Api-Key": ""}}},
		{"openai reasoning model", map[string]string{"OPENAI_BASE_URL": "{URL}", "OPENAI_API_KEY": "sk-recipe", "BRIEFBOT_MODEL": "o4-mini"}, "llm:\n  max_output_tokens: 2000\n  output_budget: 16000\n",
			want{path: "/v1/chat/completions", model: "o4-mini", header: map[string]string{"Authorization": "Bearer sk-recipe"}, completionField: true}},
		{"ollama", map[string]string{"OPENAI_BASE_URL": "{URL}", "BRIEFBOT_MODEL": "llama3.1"}, "",
			want{path: "/v1/chat/completions", model: "llama3.1", header: map[string]string{"Authorization": ""}}},
		{"llama.cpp", map[string]string{"OPENAI_BASE_URL": "{URL}", "BRIEFBOT_MODEL": "local"}, "",
			want{path: "/v1/chat/completions", model: "local", header: map[string]string{"Authorization": ""}}},
		{"vllm", map[string]string{"OPENAI_BASE_URL": "{URL}", "OPENAI_API_KEY": "token-abc", "BRIEFBOT_MODEL": "Qwen/Qwen2.5-7B-Instruct"}, "",
			want{path: "/v1/chat/completions", model: "Qwen/Qwen2.5-7B-Instruct", header: map[string]string{"Authorization": "Bearer token-abc"}}},
		{"openrouter", map[string]string{"OPENAI_BASE_URL": "{URL}", "OPENAI_API_KEY": "sk-or-recipe", "BRIEFBOT_MODEL": "meta-llama/llama-3.1-70b-instruct"},
			"llm:\n  headers:\n    HTTP-Referer: https://github.com/briefbot/briefbot\n    X-Title: briefbot\n",
			want{path: "/v1/chat/completions", model: "meta-llama/llama-3.1-70b-instruct",
				header: map[string]string{"Authorization": "Bearer sk-or-recipe", "Http-Referer": "https://github.com/briefbot/briefbot", "X-Title": "briefbot"}}},
		{"azure", map[string]string{"OPENAI_BASE_URL": "{ROOT}", "OPENAI_API_KEY": "azure-key", "BRIEFBOT_MODEL": "briefs-4o-mini", "OPENAI_API_VERSION": "2024-10-21"},
			"llm:\n  api_type: azure\n", // the fake's host is not *.openai.azure.com
			want{path: "/openai/deployments/briefs-4o-mini/chat/completions", query: "api-version=2024-10-21", model: "briefs-4o-mini",
				header: map[string]string{"Api-Key": "azure-key", "Authorization": ""}}},
		{"azure reasoning deployment", map[string]string{"OPENAI_BASE_URL": "{ROOT}", "OPENAI_API_KEY": "azure-key", "BRIEFBOT_MODEL": "briefs-reasoner"},
			"llm:\n  api_type: azure\n  max_tokens_param: max_completion_tokens\n",
			want{path: "/openai/deployments/briefs-reasoner/chat/completions", query: "api-version=2024-10-21", model: "briefs-reasoner",
				header: map[string]string{"Api-Key": "azure-key"}, completionField: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ai := fakeopenai.New(t)
			ai.Otherwise(fakeopenai.Response{Func: titleReply})
			env := map[string]string{}
			for k, v := range tt.env {
				v = strings.ReplaceAll(v, "{URL}", ai.URL())
				env[k] = strings.ReplaceAll(v, "{ROOT}", strings.TrimSuffix(ai.URL(), "/v1"))
			}
			c := newsCLI(t, korea+tt.yaml, env)
			out, stderr, err := c.run("brief", "korea-talks", "--format", "json")
			if err != nil {
				t.Fatalf("brief: %v\n%s\n%s", err, out, stderr)
			}
			if b := decodeBrief(t, out); b.Summarizer != "llm" {
				t.Errorf("summarizer %q (%s), want llm", b.Summarizer, b.FallbackReason)
			}
			reqs := ai.Requests()
			if len(reqs) == 0 {
				t.Fatal("no request reached the provider")
			}
			for _, r := range reqs {
				if r.Path != tt.want.path || r.Query != tt.want.query {
					t.Errorf("request to %s?%s, want %s?%s", r.Path, r.Query, tt.want.path, tt.want.query)
				}
				if r.Chat.Model != tt.want.model {
					t.Errorf("model %q, want %q", r.Chat.Model, tt.want.model)
				}
				for k, v := range tt.want.header {
					if got := r.Header.Get(k); got != v {
						t.Errorf("header %s = %q, want %q", k, got, v)
					}
				}
				if got := r.Chat.MaxCompletionTokens > 0 && r.Chat.MaxTokens == 0; got != tt.want.completionField || (!got && r.Chat.MaxTokens == 0) {
					t.Errorf("max_tokens %d, max_completion_tokens %d; want max_completion_tokens: %v", r.Chat.MaxTokens, r.Chat.MaxCompletionTokens, tt.want.completionField)
				}
				if strings.Contains(tt.yaml, "max_output_tokens: 2000") && r.Chat.MaxCompletionTokens != 2000 {
					t.Errorf("max_completion_tokens %d, want llm.max_output_tokens 2000", r.Chat.MaxCompletionTokens)
				}
			}
		})
	}
}

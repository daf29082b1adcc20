package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/briefbot/briefbot/digest"
	openai "github.com/sashabaranov/go-openai"
)

// completion is the part of a reply the summarizer reads.
type completion struct {
	text, finish string
}

// call sends one chat completion request, retrying 429, 5xx and timeouts
// with exponential backoff or as Retry-After asks, and falling back to
// JSON mode for good when the server rejects a json_schema response
// format. Each attempt first reserves its estimated prompt tokens and
// maxOut completion tokens from budget, and after a reply releases what
// the reply's usage shows it did not need (a failed attempt releases all).
func (s *Summarizer) call(ctx context.Context, budget *digest.Budget, msgs []openai.ChatCompletionMessage, maxOut int, r *run) (completion, error) {
	if err := s.refusedRecently(); err != nil {
		r.quiet = true
		return completion{}, err
	}
	in := 3
	for _, m := range msgs {
		in += 4 + estimateTokens(m.Content)
	}
	for attempt := 0; ; attempt++ {
		if budget != nil {
			if err := budget.Reserve(in, maxOut); err != nil {
				return completion{}, fmt.Errorf("%d prompt and %d completion tokens: %w", in, maxOut, err)
			}
		}
		var header http.Header
		actx, cancel := context.WithTimeout(context.WithValue(ctx, headerKey{}, &header), s.cfg.Timeout)
		jsonMode := s.jsonMode.Load()
		start := time.Now()
		resp, err := s.client.CreateChatCompletion(actx, s.request(msgs, maxOut, jsonMode))
		cancel()
		r.calls++
		s.observe(ctx, start, resp.Usage, err)
		if err == nil {
			u := resp.Usage
			if u.TotalTokens > 0 || u.PromptTokens > 0 {
				r.tokens += max(u.TotalTokens, u.PromptTokens+u.CompletionTokens)
				if budget != nil {
					settle(budget, in, maxOut, u.PromptTokens, u.CompletionTokens)
				}
			} else {
				r.tokens += in + maxOut // not reported: keep the reservation
			}
			if len(resp.Choices) == 0 {
				return completion{}, nil
			}
			ch := resp.Choices[0]
			return completion{text: ch.Message.Content, finish: string(ch.FinishReason)}, nil
		}
		if budget != nil {
			budget.Release(in, maxOut)
		}
		if ctx.Err() != nil {
			return completion{}, ctx.Err()
		}
		if !jsonMode && schemaRejected(err) {
			s.jsonMode.Store(true)
			attempt-- // not a failure of the endpoint: ask again in JSON mode
			continue
		}
		transient := retryable(err)
		if !transient || attempt >= s.retries {
			cerr := s.callError(err, transient, attempt+1)
			if errors.Is(cerr, digest.ErrRefused) && !s.rememberRefusal(cerr) {
				r.quiet = true // a call beside it was refused first, and logged
			}
			return completion{}, cerr
		}
		wait := backoff(attempt, s.cfg.MaxRetryWait)
		if ra, ok := retryAfter(header, s.cfg.Now()); ok {
			if ra > s.cfg.MaxRetryWait {
				return completion{}, fmt.Errorf("%s; the server asks to retry after %s: %w", s.describe(err), ra, digest.ErrTransient)
			}
			wait = ra
		}
		if err := s.cfg.Sleep(ctx, wait); err != nil {
			return completion{}, err
		}
	}
}

// observe tells Config.OnCall about a request that started at start.
func (s *Summarizer) observe(ctx context.Context, start time.Time, u openai.Usage, err error) {
	if s.cfg.OnCall == nil {
		return
	}
	c := Call{Outcome: CallOK, Duration: time.Since(start)}
	switch code := status(err); {
	case err == nil:
		c.PromptTokens, c.CompletionTokens = u.PromptTokens, u.CompletionTokens
	case code == http.StatusTooManyRequests:
		c.Outcome = CallRateLimited
	case code >= 500:
		c.Outcome = CallServerError
	case errors.Is(err, context.DeadlineExceeded):
		c.Outcome = CallTimeout
	default:
		c.Outcome = CallError
	}
	s.cfg.OnCall(ctx, c)
}

// settle corrects a reservation of in and out tokens to the usage a reply
// reported: it releases what was not used, and charges an overrun when
// the budget still has room for it (else the overrun goes uncounted).
func settle(b *digest.Budget, in, out, usedIn, usedOut int) {
	relIn, relOut := max(0, in-usedIn), max(0, out-usedOut)
	if relIn > 0 || relOut > 0 {
		b.Release(relIn, relOut)
	}
	if extraIn, extraOut := max(0, usedIn-in), max(0, usedOut-out); extraIn > 0 || extraOut > 0 {
		_ = b.Reserve(extraIn, extraOut)
	}
}

// request builds the chat completion request: structured output with the
// reply schema, or JSON mode once the server rejected that. Reasoning
// models take max_completion_tokens, others the widely supported
// max_tokens.
func (s *Summarizer) request(msgs []openai.ChatCompletionMessage, maxOut int, jsonMode bool) openai.ChatCompletionRequest {
	req := openai.ChatCompletionRequest{Model: s.cfg.Model, Messages: msgs}
	if s.cfg.TokenParam == TokenParamMaxCompletionTokens || (s.cfg.TokenParam == "" && ReasoningModel(s.cfg.Model)) {
		req.MaxCompletionTokens = maxOut
	} else {
		//lint:ignore SA1019 Ollama, llama.cpp and older vLLM know max_tokens only.
		req.MaxTokens = maxOut
	}
	if jsonMode {
		req.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
	} else {
		req.ResponseFormat = &openai.ChatCompletionResponseFormat{
			Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
				Name:   "story_summary",
				Schema: json.RawMessage(replySchema),
				Strict: true,
			},
		}
	}
	return req
}

// ReasoningModel reports whether model names one of OpenAI's reasoning
// models (o1, o3, o4, gpt-5, gpt-6…), which take max_completion_tokens
// and refuse max_tokens.
func ReasoningModel(model string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5", "gpt-6"} {
		if strings.HasPrefix(model, p) {
			return true
		}
	}
	return false
}

// status returns the HTTP status of a failed call, or 0.
func status(err error) int {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.As(err, &apiErr):
		return apiErr.HTTPStatusCode
	case errors.As(err, &reqErr):
		return reqErr.HTTPStatusCode
	}
	return 0
}

// schemaRejected reports whether the server refused the json_schema
// response format: a 400 that names it.
func schemaRejected(err error) bool {
	if status(err) != http.StatusBadRequest {
		return false
	}
	var text string
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.As(err, &apiErr):
		text = apiErr.Message
		if apiErr.Param != nil {
			text += " " + *apiErr.Param
		}
	case errors.As(err, &reqErr):
		text = string(reqErr.Body)
	}
	text = strings.ToLower(text)
	return strings.Contains(text, "response_format") || strings.Contains(text, "json_schema") || strings.Contains(text, "response format")
}

// retryable reports whether a failed call is worth retrying: rate limits,
// server errors, timeouts and broken connections.
func retryable(err error) bool {
	switch code := status(err); {
	case code == http.StatusRequestTimeout, code == http.StatusConflict, code == http.StatusTooManyRequests, code >= 500:
		return true
	case code != 0:
		return false
	}
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// callError describes a call that failed for good.
func (s *Summarizer) callError(err error, transient bool, attempts int) error {
	msg := s.describe(err)
	if attempts > 1 {
		msg = fmt.Sprintf("%s (after %d attempts)", msg, attempts)
	}
	switch code := status(err); {
	case transient && errors.Is(err, context.DeadlineExceeded):
		return &timeoutError{msg: msg}
	case transient:
		return fmt.Errorf("%s: %w", msg, digest.ErrTransient)
	case code == http.StatusUnauthorized, code == http.StatusForbidden, code == http.StatusNotFound:
		return &refusedError{msg: msg}
	}
	return errors.New(msg)
}

// refusedError is a call the service refused whatever the story: 401 or
// 403 (the key), 404 (the model, deployment or URL).
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }
func (e *refusedError) Unwrap() error { return digest.ErrRefused }

// refusalMemory is how long after a refused call the summarizer fails
// every call at once, with the same error, instead of sending it: long
// enough for the rest of a briefing and the briefings due with it, short
// enough to notice a fix (a model pulled, a deployment created) soon.
const refusalMemory = time.Minute

// refusal is a refused call the summarizer remembers until a time.
type refusal struct {
	err   error
	until time.Time
}

// errNotSent marks a call not sent because an earlier one was refused.
var errNotSent = errors.New("not sent, as an earlier call was refused")

// refusedRecently returns an error wrapping the remembered refusal while
// it lasts, else nil.
func (s *Summarizer) refusedRecently() error {
	if r := s.refused.Load(); r != nil && s.cfg.Now().Before(r.until) {
		return fmt.Errorf("%w: %w", errNotSent, r.err)
	}
	return nil
}

// rememberRefusal remembers err for refusalMemory. It reports whether err
// is the first refusal since the last one expired: calls refused at the
// same time as another need no log line of their own.
func (s *Summarizer) rememberRefusal(err error) bool {
	now := s.cfg.Now()
	next := &refusal{err: err, until: now.Add(refusalMemory)}
	for {
		old := s.refused.Load()
		first := old == nil || !now.Before(old.until)
		if !first {
			return false
		}
		if s.refused.CompareAndSwap(old, next) {
			return true
		}
	}
}

// timeoutError is a call that got no reply within Config.Timeout, on every
// attempt: transient, and a timeout for those who say so
// (errors.Is(err, context.DeadlineExceeded)).
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string { return e.msg + ": " + digest.ErrTransient.Error() }
func (e *timeoutError) Unwrap() []error {
	return []error{digest.ErrTransient, context.DeadlineExceeded}
}

// describe says what went wrong in a call, without the API key.
func (s *Summarizer) describe(err error) string {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	var msg string
	switch {
	case errors.As(err, &apiErr) && apiErr.HTTPStatusCode > 0:
		msg = fmt.Sprintf("chat completion: %d %s: %s", apiErr.HTTPStatusCode, http.StatusText(apiErr.HTTPStatusCode), apiErr.Message)
	case errors.As(err, &reqErr):
		body := strings.TrimSpace(string(reqErr.Body))
		if len(body) > 200 {
			body = body[:200] + "…"
		}
		msg = fmt.Sprintf("chat completion: %d %s: %s", reqErr.HTTPStatusCode, http.StatusText(reqErr.HTTPStatusCode), body)
	case errors.Is(err, context.DeadlineExceeded):
		msg = fmt.Sprintf("chat completion: no reply within %s", s.cfg.Timeout)
	default:
		msg = "chat completion: " + err.Error()
	}
	return s.redact(msg)
}

// redact removes the API key from a message.
func (s *Summarizer) redact(msg string) string {
	if len(s.cfg.APIKey) < 4 {
		return msg
	}
	return strings.ReplaceAll(msg, s.cfg.APIKey, "[redacted]")
}

// backoff returns the wait before retry attempt+1: one second doubling
// each attempt, with jitter (half to all of it), capped.
func backoff(attempt int, limit time.Duration) time.Duration {
	d := min(time.Second<<min(attempt, 10), limit)
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads how long the server asks to wait: retry-after-ms
// (OpenAI), else Retry-After in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < 1e12 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 && secs < 1e9 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// headerKey keys, in a request's context, where headerRecorder stores the
// response headers: go-openai's errors do not carry them, and Retry-After
// is among them.
type headerKey struct{}

// headerRecorder is an HTTP client that adds the configured headers to
// each request and stores each response's headers where the request's
// context says.
type headerRecorder struct {
	next openai.HTTPDoer
	send map[string]string
}

func (h headerRecorder) Do(req *http.Request) (*http.Response, error) {
	for k, v := range h.send {
		req.Header.Set(k, v)
	}
	resp, err := h.next.Do(req)
	if resp != nil {
		if dst, ok := req.Context().Value(headerKey{}).(*http.Header); ok {
			*dst = resp.Header.Clone()
		}
	}
	return resp, err
}

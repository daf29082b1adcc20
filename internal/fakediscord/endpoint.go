package fakediscord

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// SignatureHeaders returns the headers Discord signs an HTTP-delivered
// interaction with: X-Signature-Timestamp, the time in Unix seconds, and
// X-Signature-Ed25519, the hex Ed25519 signature with key of the
// timestamp followed by body. Tests sign with it to build valid, stale
// or wrongly signed requests; PostInteraction uses it with the server's
// key.
func SignatureHeaders(key ed25519.PrivateKey, at time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	msg := append([]byte(ts), body...)
	h := http.Header{}
	h.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(key, msg)))
	h.Set("X-Signature-Timestamp", ts)
	return h
}

// EndpointResponse is an Interactions Endpoint URL's answer to a POST
// from the fake.
type EndpointResponse struct {
	Status int
	Header http.Header
	Body   []byte
	// Received is when the answer's body had been read.
	Received time.Time
}

// PostInteraction delivers an interaction the way Discord does to an
// application with an Interactions Endpoint URL: it creates it as
// CreateInteraction does, POSTs its payload to url signed with
// Options.SigningKey and the current time, and waits for the answer as
// long as Discord would (CallbackDeadline, or 30 s when the deadline is
// disabled).
//
// A 200 answer is the interaction's response: it is checked and applied
// exactly as a POST to the callback endpoint would be, and recorded as
// one with Request.Endpoint set, so WaitInteractionResponse,
// InteractionResponses and WaitResponseMessage see it. Any other answer
// is returned and leaves the interaction unanswered; the application may
// still answer it through the callback endpoint before the deadline. An
// error is returned only when no answer arrived.
func (s *Server) PostInteraction(ctx context.Context, url string, i Interaction) (SentInteraction, EndpointResponse, error) {
	sent, err := s.CreateInteraction(i)
	if err != nil {
		return SentInteraction{}, EndpointResponse{}, err
	}
	resp, err := s.postEndpoint(ctx, url, SignatureHeaders(s.opts.SigningKey, time.Now(), sent.Payload), sent.Payload)
	if err != nil {
		return sent, EndpointResponse{}, fmt.Errorf("fakediscord: PostInteraction: %w", err)
	}
	if resp.Status == http.StatusOK {
		s.endpointCallback(sent, resp)
	}
	return sent, resp, nil
}

// endpointCallback applies a 200 answer to an HTTP-delivered interaction
// as its callback and records it.
func (s *Server) endpointCallback(sent SentInteraction, resp EndpointResponse) {
	rec := Request{
		Method: http.MethodPost, Path: "/interactions/" + sent.ID + "/" + sent.Token + "/callback",
		Version: "10", Header: resp.Header.Clone(), Body: resp.Body, Endpoint: true,
		Received: resp.Received, Answered: resp.Received,
	}
	rec.JSON, _ = decodeBody("application/json", resp.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := badJSON()
	if rec.JSON != nil {
		rep = s.interactionCallback(&call{params: []string{sent.ID, sent.Token}, body: resp.Body, json: rec.JSON})
	}
	rec.Status = rep.status
	s.record(rec)
}

// PingEndpoint POSTs a PING (type 1), signed like PostInteraction's
// interactions, to an Interactions Endpoint URL and returns the answer.
func (s *Server) PingEndpoint(ctx context.Context, url string) (EndpointResponse, error) {
	body := s.pingBody()
	resp, err := s.postEndpoint(ctx, url, SignatureHeaders(s.opts.SigningKey, time.Now(), body), body)
	if err != nil {
		return EndpointResponse{}, fmt.Errorf("fakediscord: PingEndpoint: %w", err)
	}
	return resp, nil
}

// VerifyEndpoint checks an Interactions Endpoint URL as the developer
// portal does when one saves it: a signed PING must be answered 200 with
// a PONG ({"type": 1}), and a PING with a wrong signature with 401.
func (s *Server) VerifyEndpoint(ctx context.Context, url string) error {
	resp, err := s.PingEndpoint(ctx, url)
	if err != nil {
		return err
	}
	var pong struct {
		Type *int `json:"type"`
	}
	if resp.Status != http.StatusOK || json.Unmarshal(resp.Body, &pong) != nil || pong.Type == nil || *pong.Type != 1 {
		return fmt.Errorf("fakediscord: VerifyEndpoint: PING answered %d %q, want 200 and a PONG", resp.Status, resp.Body)
	}
	body := s.pingBody()
	h := SignatureHeaders(s.opts.SigningKey, time.Now(), append(body, ' '))
	resp, err = s.postEndpoint(ctx, url, h, body)
	if err != nil {
		return fmt.Errorf("fakediscord: VerifyEndpoint: %w", err)
	}
	if resp.Status != http.StatusUnauthorized {
		return fmt.Errorf("fakediscord: VerifyEndpoint: a PING with a bad signature was answered %d, want 401", resp.Status)
	}
	return nil
}

// pingBody is a PING interaction as Discord sends it.
func (s *Server) pingBody() []byte {
	s.mu.Lock()
	id, _ := s.newID()
	token := s.opaque("aW50ZXJhY3Rpb246", 32)
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{
		"id": id, "application_id": s.opts.AppID, "type": 1, "token": token, "version": 1,
		"user": map[string]any{
			"id": "643945264868098049", "username": "discord", "discriminator": "0000",
			"avatar": nil, "public_flags": 1, "flags": 1, "system": true, "global_name": "Discord",
		},
		"entitlements": []any{}, "authorizing_integration_owners": map[string]any{},
	})
	return b
}

// maxEndpointAnswer bounds the answer read from an endpoint.
const maxEndpointAnswer = 4 << 20

// postEndpoint POSTs body with the signature headers h to url.
func (s *Server) postEndpoint(ctx context.Context, url string, h http.Header, body []byte) (EndpointResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return EndpointResponse{}, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Discord-Interactions/1.0 (+https://discord.com)")
	select {
	case <-s.done:
		return EndpointResponse{}, errClosed
	default:
	}
	resp, err := s.endpoint.Do(req)
	if err != nil {
		return EndpointResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxEndpointAnswer+1))
	if err != nil {
		return EndpointResponse{}, err
	}
	if len(b) > maxEndpointAnswer {
		return EndpointResponse{}, errors.New("answer too large")
	}
	return EndpointResponse{Status: resp.StatusCode, Header: resp.Header, Body: b, Received: time.Now()}, nil
}

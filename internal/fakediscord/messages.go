package fakediscord

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Channel is a channel the fake knows. Channels need not be added: any
// channel ID (a snowflake) is a text channel in the first of
// Options.Guilds unless added otherwise or marked missing or forbidden.
type Channel struct {
	ID      string
	GuildID string
	Name    string
	// Type is Discord's channel type: 0 text (the default), 1 DM, 5
	// announcement, 15 forum, …
	Type int
}

type channelState struct {
	Channel
	missing   bool
	forbidden bool
	// botPerms is the bot's permission bitfield in the channel; zero
	// means DefaultPermissions.
	botPerms int64
}

// permissions returns the bot's permissions in the channel.
func (c *channelState) permissions() int64 {
	if c.botPerms == 0 {
		return DefaultPermissions
	}
	return c.botPerms
}

// Permission bits the fake checks.
const (
	permAdministrator = 1 << 3
	permViewChannel   = 1 << 10
	permSendMessages  = 1 << 11
)

// SetBotPermissions sets the bot's permission bitfield in a channel, as
// the channel's permission overwrites would; zero restores
// DefaultPermissions. Interactions from the channel carry it as
// app_permissions (unless Interaction.AppPermissions says otherwise).
// The channel object (GET /channels/{id}, GET /guilds/{id}/channels)
// shows it as a member overwrite for the bot on top of the @everyone
// role's DefaultPermissions, and GET /guilds/{id}/members/{bot} gives
// the bot no roles, so a client that computes its permissions in
// another channel from the guild's roles and the channel's overwrites,
// as it must for a channel option, gets perms (Discord itself never
// allows ADMINISTRATOR in an overwrite; the fake shows it there).
// Without VIEW_CHANNEL (1<<10) every bot request about the channel fails
// with 403 Missing Access (50001), as MarkChannelForbidden makes it;
// without SEND_MESSAGES (1<<11) creating a message fails with 403
// {"message": "Missing Permissions", "code": 50013}. ADMINISTRATOR
// (1<<3) allows everything. Interaction responses and followups are not
// affected: they go through the interaction's webhook, which needs no
// permission in the channel.
func (s *Server) SetBotPermissions(channelID string, perms int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channel(channelID).botPerms = perms
	s.notify()
}

// AddChannel adds or replaces a channel, listed by GET
// /guilds/{id}/channels and in its guild's GUILD_CREATE.
func (s *Server) AddChannel(c Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Name == "" {
		c.Name = "channel-" + c.ID
	}
	st := s.channel(c.ID)
	st.Channel = c
	s.notify()
}

// MarkChannelMissing makes every request about the channel fail with 404
// {"message": "Unknown Channel", "code": 10003}, as when it was deleted.
func (s *Server) MarkChannelMissing(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channel(id).missing = true
}

// MarkChannelForbidden makes every request about the channel fail with
// 403 {"message": "Missing Access", "code": 50001}, as when the bot may
// not see it.
func (s *Server) MarkChannelForbidden(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channel(id).forbidden = true
}

// RestoreChannel undoes MarkChannelMissing and MarkChannelForbidden.
func (s *Server) RestoreChannel(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channel(id)
	c.missing, c.forbidden = false, false
}

// channel returns the channel's state, creating the implicit text channel
// on first use; s.mu is held.
func (s *Server) channel(id string) *channelState {
	c := s.channels[id]
	if c == nil {
		c = &channelState{Channel: Channel{ID: id, Name: "channel-" + id}}
		if len(s.opts.Guilds) > 0 {
			c.GuildID = s.opts.Guilds[0]
		}
		s.channels[id] = c
	}
	return c
}

// checkChannel validates a channel ID from a path; s.mu is held.
func (s *Server) checkChannel(id string) (*channelState, reply, bool) {
	if !isSnowflake(id) {
		return nil, notSnowflake("channel_id", id), false
	}
	c := s.channel(id)
	perms := c.permissions()
	switch {
	case c.missing:
		return nil, apiError(http.StatusNotFound, 10003, "Unknown Channel"), false
	case c.forbidden || perms&(permViewChannel|permAdministrator) == 0:
		return nil, apiError(http.StatusForbidden, 50001, "Missing Access"), false
	}
	return c, reply{}, true
}

func notSnowflake(field, v string) reply {
	return formError(fieldError{field, "NUMBER_TYPE_COERCE", fmt.Sprintf("Value %q is not snowflake.", v)})
}

func (c *channelState) object(botUserID string) map[string]any {
	overwrites := []any{}
	if c.botPerms != 0 && c.GuildID != "" {
		// What SetBotPermissions set, as Discord would show it: a member
		// overwrite for the bot on top of @everyone's DefaultPermissions.
		overwrites = append(overwrites, map[string]any{
			"id": botUserID, "type": 1,
			"allow": strconv.FormatInt(c.botPerms&^DefaultPermissions, 10),
			"deny":  strconv.FormatInt(DefaultPermissions&^c.botPerms, 10),
		})
	}
	o := map[string]any{
		"id": c.ID, "type": c.Type, "name": c.Name, "position": 0, "flags": 0,
		"permission_overwrites": overwrites, "nsfw": false, "topic": nil,
		"rate_limit_per_user": 0, "parent_id": nil, "last_message_id": nil,
	}
	if c.GuildID != "" {
		o["guild_id"] = c.GuildID
	}
	return o
}

// Mentions are the pings a message's content makes under its
// allowed_mentions, as Discord computes them: <@id> and <@!id> users,
// <@&id> roles, @everyone and @here.
type Mentions struct {
	Everyone bool
	Users    []string
	Roles    []string
}

// Message is a message in a channel, as the fake stores it.
type Message struct {
	ID        string
	ChannelID string
	GuildID   string
	Content   string
	// Embeds are the embeds as sent (each a JSON object).
	Embeds []json.RawMessage
	// Components are the message's top-level components (action rows)
	// as sent; Buttons lists their buttons.
	Components []json.RawMessage
	Flags      int64
	// InteractionID is set on an interaction's original response and
	// followups.
	InteractionID string
	Edited        bool
	Mentions      Mentions
	// Sent are the JSON bodies the client sent for this message: the one
	// that created it, then one per edit. Raw is the last of them.
	Sent []json.RawMessage
	Raw  json.RawMessage
	// AllowedMentions is the allowed_mentions object exactly as Raw has
	// it, nil if Raw has none. discordgo's MessageAllowedMentions with an
	// empty Parse sends {"parse":[],"replied_user":false}.
	AllowedMentions json.RawMessage
	// Object is the message object the fake returns for it.
	Object json.RawMessage
}

// Decode decodes the message object into v, such as a *discordgo.Message.
func (m Message) Decode(v any) error { return json.Unmarshal(m.Object, v) }

// Button is a button of a message's action rows.
type Button struct {
	CustomID string // "" for a link button
	Label    string
	Style    int // 1 primary, 2 secondary, 3 success, 4 danger, 5 link
	URL      string
	Disabled bool
}

// Buttons returns the buttons of the message's action rows, in order.
func (m Message) Buttons() []Button {
	var comps []any
	for _, raw := range m.Components {
		var c any
		if json.Unmarshal(raw, &c) == nil {
			comps = append(comps, c)
		}
	}
	return buttonsOf(comps)
}

// buttons returns the buttons of a stored message.
func (m *message) buttons() []Button { return buttonsOf(m.components) }

func buttonsOf(comps []any) []Button {
	var out []Button
	for _, row := range comps {
		ro, _ := row.(map[string]any)
		for _, c := range anySlice(ro["components"]) {
			co, _ := c.(map[string]any)
			if t, _ := co["type"].(float64); int(t) != componentButton {
				continue
			}
			b := Button{}
			b.CustomID, _ = co["custom_id"].(string)
			b.Label, _ = co["label"].(string)
			b.URL, _ = co["url"].(string)
			b.Disabled, _ = co["disabled"].(bool)
			style, _ := co["style"].(float64)
			b.Style = int(style)
			out = append(out, b)
		}
	}
	return out
}

// Messages flag bits the fake gives meaning to.
const (
	flagSuppressEmbeds        = 1 << 2
	flagEphemeral             = 1 << 6
	flagLoading               = 1 << 7
	flagSuppressNotifications = 1 << 12
)

// message is a stored message.
type message struct {
	id, channelID, guildID string
	created                time.Time // from the snowflake
	wallCreated            time.Time
	edited                 *time.Time
	msgType                int
	content                string
	embeds                 []any
	components             []any
	attachments            []any
	flags                  int64
	tts                    bool
	nonce                  any
	allowed                map[string]any // nil: absent, every mention parses
	interactionID          string
	mentions               Mentions
	sent                   []json.RawMessage
}

func (m *message) export(s *Server) Message {
	obj, _ := json.Marshal(s.messageObject(m))
	out := Message{
		ID: m.id, ChannelID: m.channelID, GuildID: m.guildID, Content: m.content,
		Flags: m.flags, InteractionID: m.interactionID, Edited: m.edited != nil,
		Mentions: m.mentions, Sent: slices.Clone(m.sent), Object: obj,
	}
	out.Mentions.Users = slices.Clone(m.mentions.Users)
	out.Mentions.Roles = slices.Clone(m.mentions.Roles)
	for _, e := range m.embeds {
		b, _ := json.Marshal(e)
		out.Embeds = append(out.Embeds, b)
	}
	for _, c := range m.components {
		b, _ := json.Marshal(c)
		out.Components = append(out.Components, b)
	}
	if len(m.sent) > 0 {
		out.Raw = m.sent[len(m.sent)-1]
		var fields map[string]json.RawMessage
		if json.Unmarshal(out.Raw, &fields) == nil {
			out.AllowedMentions = fields["allowed_mentions"]
		}
	}
	return out
}

// messageObject is the message as Discord returns it; s.mu is held.
func (s *Server) messageObject(m *message) map[string]any {
	mentions := []any{}
	for _, id := range m.mentions.Users {
		mentions = append(mentions, map[string]any{
			"id": id, "username": "user-" + id, "discriminator": "0", "global_name": nil,
			"avatar": nil, "public_flags": 0,
		})
	}
	var edited any
	if m.edited != nil {
		edited = timestamp(*m.edited)
	}
	o := map[string]any{
		"id": m.id, "type": m.msgType, "channel_id": m.channelID, "content": m.content,
		"author": s.botUser(), "timestamp": timestamp(m.created), "edited_timestamp": edited,
		"tts": m.tts, "mention_everyone": m.mentions.Everyone, "mentions": mentions,
		"mention_roles": orEmpty(m.mentions.Roles), "attachments": orEmptyAny(m.attachments),
		"embeds": orEmptyAny(m.embeds), "components": orEmptyAny(m.components),
		"pinned": false, "flags": m.flags,
	}
	if m.nonce != nil {
		o["nonce"] = m.nonce
	}
	if m.interactionID != "" {
		o["webhook_id"] = s.opts.AppID
		o["application_id"] = s.opts.AppID
		if in := s.interactions[m.interactionID]; in != nil {
			o["interaction_metadata"] = map[string]any{
				"id": in.id, "type": int(in.typ), "user": in.user(),
				"authorizing_integration_owners": map[string]any{},
			}
		}
	}
	return o
}

func orEmpty(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func orEmptyAny(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

// Messages returns the messages currently in a channel (deleted ones
// excluded, ephemeral interaction responses included), oldest first.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.channelMsgs[channelID] {
		out = append(out, m.export(s))
	}
	return out
}

// Message returns a message by ID, if it exists.
func (s *Server) Message(id string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[id]
	if m == nil {
		return Message{}, false
	}
	return m.export(s), true
}

// WaitMessages waits until a channel holds at least n messages and
// returns them all.
func (s *Server) WaitMessages(ctx context.Context, channelID string, n int) ([]Message, error) {
	if err := s.waitFor(ctx, func() bool { return len(s.channelMsgs[channelID]) >= n }); err != nil {
		return nil, fmt.Errorf("fakediscord: waiting for %d messages in channel %s: %w", n, channelID, err)
	}
	return s.Messages(channelID), nil
}

// addMessage stores a new message and dispatches MESSAGE_CREATE; s.mu is
// held.
func (s *Server) addMessage(m *message) {
	s.messages[m.id] = m
	s.channelMsgs[m.channelID] = append(s.channelMsgs[m.channelID], m)
	if m.flags&flagEphemeral == 0 {
		s.dispatchMessage("MESSAGE_CREATE", m.guildID, s.messageEvent(m))
	}
}

// removeMessage deletes a message and dispatches MESSAGE_DELETE; s.mu is
// held.
func (s *Server) removeMessage(m *message) {
	delete(s.messages, m.id)
	s.channelMsgs[m.channelID] = slices.DeleteFunc(s.channelMsgs[m.channelID], func(x *message) bool { return x == m })
	if m.flags&flagEphemeral == 0 {
		d := map[string]any{"id": m.id, "channel_id": m.channelID}
		if m.guildID != "" {
			d["guild_id"] = m.guildID
		}
		s.dispatchMessage("MESSAGE_DELETE", m.guildID, d)
	}
}

func (s *Server) messageEvent(m *message) map[string]any {
	o := s.messageObject(m)
	if m.guildID != "" {
		o["guild_id"] = m.guildID
	}
	return o
}

var (
	userMention  = regexp.MustCompile(`<@!?(\d+)>`)
	roleMention  = regexp.MustCompile(`<@&(\d+)>`)
	everyoneText = regexp.MustCompile(`@(everyone|here)`)
)

// computeMentions applies allowed_mentions (nil: absent) to content.
func computeMentions(content string, allowed map[string]any) Mentions {
	parse := map[string]bool{"users": true, "roles": true, "everyone": true}
	users, roles := map[string]bool{}, map[string]bool{}
	if allowed != nil {
		parse = map[string]bool{}
		for _, p := range anySlice(allowed["parse"]) {
			if ps, ok := p.(string); ok {
				parse[ps] = true
			}
		}
		for _, u := range anySlice(allowed["users"]) {
			users[fmt.Sprint(u)] = true
		}
		for _, r := range anySlice(allowed["roles"]) {
			roles[fmt.Sprint(r)] = true
		}
	}
	var m Mentions
	for _, g := range userMention.FindAllStringSubmatch(content, -1) {
		if (parse["users"] || users[g[1]]) && !slices.Contains(m.Users, g[1]) {
			m.Users = append(m.Users, g[1])
		}
	}
	for _, g := range roleMention.FindAllStringSubmatch(content, -1) {
		if (parse["roles"] || roles[g[1]]) && !slices.Contains(m.Roles, g[1]) {
			m.Roles = append(m.Roles, g[1])
		}
	}
	m.Everyone = parse["everyone"] && everyoneText.MatchString(content)
	return m
}

func anySlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// Limits Discord enforces on messages and embeds.
const (
	maxContent     = 2000
	maxEmbeds      = 10
	maxEmbedTotal  = 6000
	maxTitle       = 256
	maxDescription = 4096
	maxFields      = 25
	maxFieldName   = 256
	maxFieldValue  = 1024
	maxFooter      = 2048
	maxAuthorName  = 256
)

// validateMessage checks the fields of a message body that are present.
func validateMessage(o map[string]any) []fieldError {
	var errs []fieldError
	if v, ok := o["content"]; ok && v != nil {
		if str, isStr := v.(string); !isStr {
			errs = append(errs, fieldError{"content", "STRING_TYPE_CONVERT", fmt.Sprintf("Could not interpret %q as string.", fmt.Sprint(v))})
		} else {
			errs = append(errs, maxLen("content", str, maxContent)...)
		}
	}
	if v, ok := o["embeds"]; ok && v != nil {
		embeds, isList := v.([]any)
		switch {
		case !isList:
			errs = append(errs, fieldError{"embeds", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"})
		case len(embeds) > maxEmbeds:
			errs = append(errs, fieldError{"embeds", "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", maxEmbeds)})
		default:
			total := 0
			for i, e := range embeds {
				n, ee := validateEmbed(fmt.Sprintf("embeds.%d", i), e)
				total += n
				errs = append(errs, ee...)
			}
			if total > maxEmbedTotal {
				errs = append(errs, fieldError{"embeds", "MAX_EMBED_SIZE_EXCEEDED", fmt.Sprintf("Embed size exceeds maximum size of %d", maxEmbedTotal)})
			}
		}
	}
	if v, ok := o["allowed_mentions"]; ok && v != nil {
		errs = append(errs, validateAllowedMentions(v)...)
	}
	if v, ok := o["components"]; ok && v != nil {
		errs = append(errs, validateComponents(v)...)
	}
	if v, ok := o["nonce"]; ok && v != nil {
		if str, isStr := v.(string); isStr && utf8.RuneCountInString(str) > 25 {
			errs = append(errs, fieldError{"nonce", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."})
		}
	}
	return errs
}

func maxLen(path, s string, n int) []fieldError {
	if utf8.RuneCountInString(s) > n {
		return []fieldError{{path, "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", n)}}
	}
	return nil
}

func required(path string) fieldError {
	return fieldError{path, "BASE_TYPE_REQUIRED", "This field is required"}
}

// validateEmbed checks one embed and returns the characters it counts
// against the 6000 total.
func validateEmbed(path string, v any) (int, []fieldError) {
	e, ok := v.(map[string]any)
	if !ok {
		return 0, []fieldError{{path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"}}
	}
	var errs []fieldError
	total := 0
	text := func(field string, limit int) {
		str, _ := e[field].(string)
		total += utf8.RuneCountInString(str)
		errs = append(errs, maxLen(path+"."+field, str, limit)...)
	}
	text("title", maxTitle)
	text("description", maxDescription)
	for _, field := range []string{"url"} {
		if u, _ := e[field].(string); u != "" && !wellFormedURL(u) {
			errs = append(errs, fieldError{path + "." + field, "URL_TYPE_INVALID_URL", "Not a well formed URL."})
		}
	}
	if c, ok := e["color"]; ok && c != nil {
		f, isNum := c.(float64)
		switch {
		case !isNum || f != float64(int64(f)):
			errs = append(errs, fieldError{path + ".color", "NUMBER_TYPE_COERCE", fmt.Sprintf("Value %q is not int.", fmt.Sprint(c))})
		case f > 0xFFFFFF:
			errs = append(errs, fieldError{path + ".color", "NUMBER_TYPE_MAX", "int value should be less than or equal to 16777215."})
		case f < 0:
			errs = append(errs, fieldError{path + ".color", "NUMBER_TYPE_MIN", "int value should be greater than or equal to 0."})
		}
	}
	if ts, _ := e["timestamp"].(string); ts != "" {
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			errs = append(errs, fieldError{path + ".timestamp", "DATE_TIME_TYPE_PARSE", fmt.Sprintf("Could not parse %s. Should be ISO8601.", ts)})
		}
	}
	if f, ok := e["footer"].(map[string]any); ok {
		str, _ := f["text"].(string)
		total += utf8.RuneCountInString(str)
		if str == "" {
			errs = append(errs, required(path+".footer.text"))
		}
		errs = append(errs, maxLen(path+".footer.text", str, maxFooter)...)
	}
	if a, ok := e["author"].(map[string]any); ok {
		str, _ := a["name"].(string)
		total += utf8.RuneCountInString(str)
		if str == "" {
			errs = append(errs, required(path+".author.name"))
		}
		errs = append(errs, maxLen(path+".author.name", str, maxAuthorName)...)
		if u, _ := a["url"].(string); u != "" && !wellFormedURL(u) {
			errs = append(errs, fieldError{path + ".author.url", "URL_TYPE_INVALID_URL", "Not a well formed URL."})
		}
	}
	for _, img := range []string{"image", "thumbnail"} {
		if o, ok := e[img].(map[string]any); ok {
			if u, _ := o["url"].(string); !wellFormedURL(u) && !strings.HasPrefix(u, "attachment://") {
				errs = append(errs, fieldError{path + "." + img + ".url", "URL_TYPE_INVALID_URL", "Not a well formed URL."})
			}
		}
	}
	if fv, ok := e["fields"]; ok && fv != nil {
		fields, _ := fv.([]any)
		if len(fields) > maxFields {
			errs = append(errs, fieldError{path + ".fields", "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", maxFields)})
		}
		for i, f := range fields {
			fp := fmt.Sprintf("%s.fields.%d", path, i)
			fo, _ := f.(map[string]any)
			name, _ := fo["name"].(string)
			value, _ := fo["value"].(string)
			total += utf8.RuneCountInString(name) + utf8.RuneCountInString(value)
			if name == "" {
				errs = append(errs, required(fp+".name"))
			}
			if value == "" {
				errs = append(errs, required(fp+".value"))
			}
			errs = append(errs, maxLen(fp+".name", name, maxFieldName)...)
			errs = append(errs, maxLen(fp+".value", value, maxFieldValue)...)
		}
	}
	return total, errs
}

func wellFormedURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Component types the fake checks.
const (
	componentActionRow = 1
	componentButton    = 2
)

// Limits Discord enforces on message components.
const (
	maxActionRows   = 5
	maxRowButtons   = 5
	maxCustomID     = 100
	maxButtonLabel  = 80
	maxButtonURL    = 512
	buttonStyleLink = 5
)

// validateComponents checks a message's (legacy) components: up to five
// action rows at the top, each holding one to five buttons or one other
// component; a button has a style from 1 to 6, a label of at most 80
// characters, and either a custom_id (1 to 100 characters, unique in the
// message) or, for a link button (style 5), a url.
func validateComponents(v any) []fieldError {
	rows, ok := v.([]any)
	if !ok {
		return []fieldError{{"components", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"}}
	}
	var errs []fieldError
	if len(rows) > maxActionRows {
		errs = append(errs, fieldError{"components", "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", maxActionRows)})
	}
	ids := map[string]bool{}
	for i, r := range rows {
		p := fmt.Sprintf("components.%d", i)
		row, _ := r.(map[string]any)
		if t, _ := row["type"].(float64); int(t) != componentActionRow {
			errs = append(errs, fieldError{p + ".type", "UNION_TYPE_CHOICES", "Value of field \"type\" must be one of (1,)."})
			continue
		}
		children := anySlice(row["components"])
		if len(children) < 1 || len(children) > maxRowButtons {
			errs = append(errs, fieldError{p + ".components", "BASE_TYPE_BAD_LENGTH", fmt.Sprintf("Must be between 1 and %d in length.", maxRowButtons)})
		}
		for j, c := range children {
			cp := fmt.Sprintf("%s.components.%d", p, j)
			co, _ := c.(map[string]any)
			if t, _ := co["type"].(float64); int(t) != componentButton {
				if len(children) > 1 {
					errs = append(errs, fieldError{cp + ".type", "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "The specified component exceeds the maximum width"})
				}
				continue
			}
			errs = append(errs, validateButton(cp, co, ids)...)
		}
	}
	return errs
}

func validateButton(path string, b map[string]any, ids map[string]bool) []fieldError {
	var errs []fieldError
	style, _ := b["style"].(float64)
	if style < 1 || style > 6 || style != float64(int(style)) {
		errs = append(errs, fieldError{path + ".style", "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}."})
	}
	label, _ := b["label"].(string)
	errs = append(errs, maxLen(path+".label", label, maxButtonLabel)...)
	id, hasID := b["custom_id"].(string)
	url, hasURL := b["url"].(string)
	switch {
	case int(style) == buttonStyleLink:
		if !hasURL || !wellFormedURL(url) {
			errs = append(errs, fieldError{path + ".url", "URL_TYPE_INVALID_URL", "Not a well formed URL."})
		}
		errs = append(errs, maxLen(path+".url", url, maxButtonURL)...)
		if hasID {
			errs = append(errs, fieldError{path + ".custom_id", "BUTTON_COMPONENT_URL_AND_CUSTOM_ID_ARE_MUTUALLY_EXCLUSIVE", "A URL and custom ID are mutually exclusive"})
		}
	case !hasID || id == "":
		errs = append(errs, fieldError{path + ".custom_id", "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A custom id required"})
	default:
		errs = append(errs, maxLen(path+".custom_id", id, maxCustomID)...)
		if hasURL {
			errs = append(errs, fieldError{path + ".url", "BUTTON_COMPONENT_URL_AND_CUSTOM_ID_ARE_MUTUALLY_EXCLUSIVE", "A URL and custom ID are mutually exclusive"})
		}
		if ids[id] {
			errs = append(errs, fieldError{path + ".custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"})
		}
		ids[id] = true
	}
	return errs
}

func validateAllowedMentions(v any) []fieldError {
	am, ok := v.(map[string]any)
	if !ok {
		return []fieldError{{"allowed_mentions", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"}}
	}
	var errs []fieldError
	parse := map[string]bool{}
	for i, p := range anySlice(am["parse"]) {
		ps, _ := p.(string)
		if ps != "users" && ps != "roles" && ps != "everyone" {
			errs = append(errs, fieldError{fmt.Sprintf("allowed_mentions.parse.%d", i), "ENUM_TYPE_COERCE", fmt.Sprintf("Value %q is not a valid enum value.", fmt.Sprint(p))})
		}
		parse[ps] = true
	}
	if parse["users"] && len(anySlice(am["users"])) > 0 {
		errs = append(errs, fieldError{"allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", `parse:["users"] and users: [ids] are mutually exclusive.`})
	}
	if parse["roles"] && len(anySlice(am["roles"])) > 0 {
		errs = append(errs, fieldError{"allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", `parse:["roles"] and roles: [ids] are mutually exclusive.`})
	}
	return errs
}

// isEmpty reports whether a message has nothing to show.
func (m *message) isEmpty(files int) bool {
	return strings.TrimSpace(m.content) == "" && len(m.embeds) == 0 && len(m.attachments) == 0 &&
		len(m.components) == 0 && files == 0
}

func emptyMessage() reply {
	return apiError(http.StatusBadRequest, 50006, "Cannot send an empty message")
}

// applyBody sets the message fields present in a create or edit body.
// allowedFlags masks the flags a client may set here.
func (m *message) applyBody(o map[string]any, allowedFlags int64) {
	if v, ok := o["content"]; ok {
		m.content, _ = v.(string)
	}
	if v, ok := o["embeds"]; ok {
		m.embeds = nil
		for _, e := range anySlice(v) {
			if eo, ok := e.(map[string]any); ok {
				if _, has := eo["type"]; !has {
					eo = maps.Clone(eo)
					eo["type"] = "rich"
					e = eo
				}
			}
			m.embeds = append(m.embeds, e)
		}
	}
	if v, ok := o["components"]; ok {
		m.components = anySlice(v)
	}
	if v, ok := o["attachments"]; ok {
		m.attachments = anySlice(v)
	}
	if v, ok := o["tts"].(bool); ok {
		m.tts = v
	}
	if v, ok := o["flags"].(float64); ok {
		m.flags = m.flags&^allowedFlags | int64(v)&allowedFlags
	}
	if v, ok := o["allowed_mentions"]; ok {
		m.allowed, _ = v.(map[string]any)
		if v != nil && m.allowed == nil {
			m.allowed = map[string]any{}
		}
	}
	m.mentions = computeMentions(m.content, m.allowed)
}

// bodyObject returns the request JSON object; a body that is not an
// object is a form error.
func bodyObject(c *call) (map[string]any, reply, bool) {
	if c.json == nil {
		return map[string]any{}, reply{}, true
	}
	o := c.object()
	if o == nil {
		return nil, formError(fieldError{"", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"}), false
	}
	return o, reply{}, true
}

// sentJSON is the JSON the client sent: the body, or a multipart body's
// payload_json.
func sentJSON(c *call) json.RawMessage {
	if c.files == nil {
		return json.RawMessage(slices.Clone(c.body))
	}
	b, _ := json.Marshal(c.json)
	return b
}

// createMessage answers POST /channels/{channel}/messages.
func (s *Server) createMessage(c *call) reply {
	ch, rep, ok := s.checkChannel(c.params[0])
	if !ok {
		return rep
	}
	if p := ch.permissions(); p&(permSendMessages|permAdministrator) == 0 {
		return apiError(http.StatusForbidden, 50013, "Missing Permissions")
	}
	o, rep, ok := bodyObject(c)
	if !ok {
		return rep
	}
	if errs := validateMessage(o); len(errs) > 0 {
		return formError(errs...)
	}
	if nonce := o["nonce"]; nonce != nil && o["enforce_nonce"] == true {
		for _, m := range s.channelMsgs[ch.ID] {
			if fmt.Sprint(m.nonce) == fmt.Sprint(nonce) && time.Since(m.wallCreated) < 5*time.Minute {
				return success(s.messageObject(m))
			}
		}
	}
	id, created := s.newID()
	m := &message{
		id: id, channelID: ch.ID, guildID: ch.GuildID, created: created, wallCreated: time.Now(),
		nonce: o["nonce"], sent: []json.RawMessage{sentJSON(c)},
	}
	m.applyBody(o, flagSuppressEmbeds|flagSuppressNotifications)
	for _, f := range c.files {
		aid, _ := s.newID()
		m.attachments = append(m.attachments, map[string]any{
			"id": aid, "filename": f.Name, "size": len(f.Data), "content_type": f.ContentType,
			"url": "https://cdn.discordapp.com/attachments/" + ch.ID + "/" + aid + "/" + f.Name,
		})
	}
	if m.isEmpty(len(c.files)) {
		return emptyMessage()
	}
	s.addMessage(m)
	return success(s.messageObject(m))
}

// lookupMessage finds a message of a channel; s.mu is held.
func (s *Server) lookupMessage(channelID, id string) (*message, reply, bool) {
	m := s.messages[id]
	if m == nil || m.channelID != channelID {
		return nil, apiError(http.StatusNotFound, 10008, "Unknown Message"), false
	}
	return m, reply{}, true
}

// editMessage answers PATCH /channels/{channel}/messages/{message}.
func (s *Server) editMessage(c *call) reply {
	ch, rep, ok := s.checkChannel(c.params[0])
	if !ok {
		return rep
	}
	m, rep, ok := s.lookupMessage(ch.ID, c.params[1])
	if !ok {
		return rep
	}
	return s.patchMessage(m, c, flagSuppressEmbeds)
}

// patchMessage validates and applies an edit; s.mu is held.
func (s *Server) patchMessage(m *message, c *call, allowedFlags int64) reply {
	o, rep, ok := bodyObject(c)
	if !ok {
		return rep
	}
	if errs := validateMessage(o); len(errs) > 0 {
		return formError(errs...)
	}
	next := *m
	next.applyBody(o, allowedFlags)
	next.flags &^= flagLoading
	if next.isEmpty(len(c.files)) {
		return emptyMessage()
	}
	_, now := s.newID()
	next.edited = &now
	next.sent = append(slices.Clone(m.sent), sentJSON(c))
	*m = next
	if m.flags&flagEphemeral == 0 {
		s.dispatchMessage("MESSAGE_UPDATE", m.guildID, s.messageEvent(m))
	}
	return success(s.messageObject(m))
}

// deleteMessage answers DELETE /channels/{channel}/messages/{message}.
func (s *Server) deleteMessage(c *call) reply {
	ch, rep, ok := s.checkChannel(c.params[0])
	if !ok {
		return rep
	}
	m, rep, ok := s.lookupMessage(ch.ID, c.params[1])
	if !ok {
		return rep
	}
	s.removeMessage(m)
	return noContent()
}

// getMessage answers GET /channels/{channel}/messages/{message}.
func (s *Server) getMessage(c *call) reply {
	ch, rep, ok := s.checkChannel(c.params[0])
	if !ok {
		return rep
	}
	m, rep, ok := s.lookupMessage(ch.ID, c.params[1])
	if !ok {
		return rep
	}
	return success(s.messageObject(m))
}

// listMessages answers GET /channels/{channel}/messages (newest first;
// limit, before and after).
func (s *Server) listMessages(c *call) reply {
	ch, rep, ok := s.checkChannel(c.params[0])
	if !ok {
		return rep
	}
	limit := 50
	if v := c.query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return formError(fieldError{"limit", "NUMBER_TYPE_MAX", "int value should be less than or equal to 100."})
		}
		limit = n
	}
	before, after := idNum(c.query.Get("before")), idNum(c.query.Get("after"))
	out := []any{}
	msgs := s.channelMsgs[ch.ID]
	for i := len(msgs) - 1; i >= 0 && len(out) < limit; i-- {
		n := idNum(msgs[i].id)
		if (before != 0 && n >= before) || (after != 0 && n <= after) {
			continue
		}
		out = append(out, s.messageObject(msgs[i]))
	}
	return success(out)
}

func idNum(id string) uint64 {
	n, _ := strconv.ParseUint(id, 10, 64)
	return n
}

// getChannel answers GET /channels/{channel}.
func (s *Server) getChannel(c *call) reply {
	ch, rep, ok := s.checkChannel(c.params[0])
	if !ok {
		return rep
	}
	return success(ch.object(s.opts.BotUserID))
}

// knownGuild reports whether the bot is in a guild; s.mu is held.
func (s *Server) knownGuild(id string) bool {
	return slices.Contains(s.opts.Guilds, id)
}

// guildChannels returns the channels of a guild, sorted by ID; s.mu is
// held.
func (s *Server) guildChannels(guildID string) []*channelState {
	var out []*channelState
	for _, c := range s.channels {
		if c.GuildID == guildID && !c.missing {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return idNum(out[i].ID) < idNum(out[j].ID) })
	return out
}

// getGuild answers GET /guilds/{guild}.
func (s *Server) getGuild(c *call) reply {
	if !isSnowflake(c.params[0]) {
		return notSnowflake("guild_id", c.params[0])
	}
	if !s.knownGuild(c.params[0]) {
		return apiError(http.StatusNotFound, 10004, "Unknown Guild")
	}
	return success(s.guildObject(c.params[0]))
}

func (s *Server) guildObject(id string) map[string]any {
	return map[string]any{
		"id": id, "name": "guild-" + id, "icon": nil, "owner_id": "1", "afk_channel_id": nil,
		"verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
		"roles": []any{map[string]any{
			"id": id, "name": "@everyone", "permissions": strconv.FormatInt(DefaultPermissions, 10),
			"position": 0, "color": 0, "hoist": false, "managed": false, "mentionable": false, "flags": 0,
		}},
		"emojis": []any{}, "stickers": []any{}, "features": []any{}, "mfa_level": 0,
		"system_channel_id": nil, "premium_tier": 0, "preferred_locale": "en-US", "nsfw_level": 0,
	}
}

// getGuildMember answers GET /guilds/{guild}/members/{user}. Every user
// is a member with no roles: the @everyone role (DefaultPermissions) and
// the channels' overwrites (SetBotPermissions) decide their permissions.
func (s *Server) getGuildMember(c *call) reply {
	guildID, userID := c.params[0], c.params[1]
	switch {
	case !isSnowflake(guildID):
		return notSnowflake("guild_id", guildID)
	case !isSnowflake(userID):
		return notSnowflake("user_id", userID)
	case !s.knownGuild(guildID):
		return apiError(http.StatusNotFound, 10004, "Unknown Guild")
	}
	user := map[string]any{"id": userID, "username": "user-" + userID, "discriminator": "0", "global_name": nil, "avatar": nil, "public_flags": 0}
	if userID == s.opts.BotUserID {
		user = s.botUser()
	}
	return success(map[string]any{
		"user": user, "roles": []any{}, "joined_at": timestamp(time.UnixMilli(idBaseMs).UTC()), "nick": nil, "avatar": nil,
		"deaf": false, "mute": false, "flags": 0, "pending": false, "premium_since": nil, "communication_disabled_until": nil,
	})
}

// getGuildChannels answers GET /guilds/{guild}/channels.
func (s *Server) getGuildChannels(c *call) reply {
	if !isSnowflake(c.params[0]) {
		return notSnowflake("guild_id", c.params[0])
	}
	if !s.knownGuild(c.params[0]) {
		return apiError(http.StatusNotFound, 10004, "Unknown Guild")
	}
	out := []any{}
	for _, ch := range s.guildChannels(c.params[0]) {
		out = append(out, ch.object(s.opts.BotUserID))
	}
	return success(out)
}

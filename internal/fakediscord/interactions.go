package fakediscord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultPermissions is the permission bitfield the fake gives members
// and the bot when an Interaction does not say: VIEW_CHANNEL,
// SEND_MESSAGES, EMBED_LINKS, ATTACH_FILES, READ_MESSAGE_HISTORY,
// ADD_REACTIONS, USE_EXTERNAL_EMOJIS and USE_APPLICATION_COMMANDS; no
// Manage Server (1<<5) and no Manage Channels (1<<4).
const DefaultPermissions int64 = 1<<10 | 1<<11 | 1<<14 | 1<<15 | 1<<16 | 1<<6 | 1<<18 | 1<<31

// InteractionType is Discord's interaction type.
type InteractionType int

// Interaction types SendInteraction builds.
const (
	// InteractionApplicationCommand is a slash command invocation.
	InteractionApplicationCommand InteractionType = 2
	// InteractionMessageComponent is a click on a button of a message
	// (see Click).
	InteractionMessageComponent InteractionType = 3
	// InteractionAutocomplete asks for choices for the focused option.
	InteractionAutocomplete InteractionType = 4
)

// OptionType is Discord's application command option type.
type OptionType int

// Application command option types.
const (
	OptionSubCommand      OptionType = 1
	OptionSubCommandGroup OptionType = 2
	OptionString          OptionType = 3
	OptionInteger         OptionType = 4
	OptionBoolean         OptionType = 5
	OptionUser            OptionType = 6
	OptionChannel         OptionType = 7
	OptionRole            OptionType = 8
	OptionMentionable     OptionType = 9
	OptionNumber          OptionType = 10
	OptionAttachment      OptionType = 11
)

// Option is one option of an invoked command: a subcommand (group) with
// its own Options, or a value.
type Option struct {
	Name    string
	Type    OptionType
	Value   any // string, int64, float64, bool, or an ID string
	Options []Option
	// Focused marks the option being typed in an autocomplete
	// interaction; its Value is the partial input.
	Focused bool
}

// SubCommand is a subcommand option holding opts.
func SubCommand(name string, opts ...Option) Option {
	return Option{Name: name, Type: OptionSubCommand, Options: opts}
}

// SubCommandGroup is a subcommand group option holding subcommands.
func SubCommandGroup(name string, subcommands ...Option) Option {
	return Option{Name: name, Type: OptionSubCommandGroup, Options: subcommands}
}

// StringOption is a string option.
func StringOption(name, value string) Option {
	return Option{Name: name, Type: OptionString, Value: value}
}

// IntegerOption is an integer option.
func IntegerOption(name string, value int64) Option {
	return Option{Name: name, Type: OptionInteger, Value: value}
}

// NumberOption is a number option.
func NumberOption(name string, value float64) Option {
	return Option{Name: name, Type: OptionNumber, Value: value}
}

// BooleanOption is a boolean option.
func BooleanOption(name string, value bool) Option {
	return Option{Name: name, Type: OptionBoolean, Value: value}
}

// ChannelOption is a channel option; the channel is added to the
// interaction's resolved data, with the invoking member's permissions
// (Interaction.Permissions), as Discord sends them. The bot's own
// permissions there are not in the interaction (app_permissions are
// those in the channel it was sent from); see SetBotPermissions.
func ChannelOption(name, channelID string) Option {
	return Option{Name: name, Type: OptionChannel, Value: channelID}
}

// UserOption is a user option; the user is added to the resolved data.
func UserOption(name, userID string) Option {
	return Option{Name: name, Type: OptionUser, Value: userID}
}

// RoleOption is a role option; the role is added to the resolved data.
func RoleOption(name, roleID string) Option {
	return Option{Name: name, Type: OptionRole, Value: roleID}
}

// Focused returns o marked as the option being typed (autocomplete).
func Focused(o Option) Option {
	o.Focused = true
	return o
}

// User is the user invoking an interaction.
type User struct {
	ID       string
	Username string
}

// Interaction describes an interaction for SendInteraction to build.
type Interaction struct {
	// Type defaults to InteractionApplicationCommand.
	Type InteractionType
	// Name is the command's name (not used by InteractionMessageComponent).
	Name string
	// MessageID and CustomID, for InteractionMessageComponent, name the
	// message in ChannelID and the custom_id of the button clicked on it;
	// the button must be there and enabled, as Discord only sends clicks
	// on buttons it shows. The payload carries the message as it is now.
	// The fake does not check that the user can see the message: an
	// ephemeral message is shown only to the user it answered, but a test
	// may click it as another user, to check that the bot refuses a click
	// it should never get. Click builds such an Interaction.
	MessageID string
	CustomID  string
	// Options are the invoked options, subcommands first.
	Options []Option
	// GuildID is the guild it is invoked in; "" means a DM with the bot
	// (the payload then has user instead of member).
	GuildID string
	// ChannelID is required.
	ChannelID string
	// User defaults to a generated ID and the username "tester"; for
	// InteractionMessageComponent on an interaction's response, to the
	// user of that interaction.
	User User
	// Permissions is the member's permission bitfield in the channel;
	// zero means DefaultPermissions. Roles are the member's role IDs.
	Permissions int64
	Roles       []string
	// AppPermissions is the bot's permission bitfield in the channel;
	// zero means the channel's (see SetBotPermissions), by default
	// DefaultPermissions.
	AppPermissions int64
	// Locale is the user's client locale; it defaults to "en-US".
	Locale string
}

// SentInteraction identifies a sent interaction.
type SentInteraction struct {
	ID    string
	Token string
	// Payload is the interaction object as JSON: INTERACTION_CREATE's
	// data as dispatched, or the body POSTed to an Interactions Endpoint
	// URL.
	Payload json.RawMessage
	// SentAt is when the interaction was dispatched (for
	// CreateInteraction and PostInteraction, created): the start of its
	// callback deadline. Subtract it from a Request's Answered to time
	// an answer as Discord would.
	SentAt time.Time
}

// interactionState is a sent interaction and what was answered.
type interactionState struct {
	id, token          string
	typ                InteractionType
	guildID, channelID string
	userID, username   string
	sentAt             time.Time
	acked              bool
	// original is the message @original names: the response message, or,
	// for a component interaction answered with type 6 or 7, the message
	// the component is on.
	original *message
	// message is the message a component interaction's button is on.
	message  *message
	requests []int // indexes into Server.requests
}

// Click returns the Interaction of a click on the button with customID
// of m, in m's channel and guild, for SendInteraction, SendInteractions,
// CreateInteraction or PostInteraction. Its User is left empty: the user
// m answered, when m is an interaction's response (the only user who sees
// it, when it is ephemeral). Set User to click as someone else.
func Click(m Message, customID string) Interaction {
	return Interaction{
		Type: InteractionMessageComponent, GuildID: m.GuildID, ChannelID: m.ChannelID,
		MessageID: m.ID, CustomID: customID,
	}
}

func (in *interactionState) user() map[string]any {
	return map[string]any{
		"id": in.userID, "username": in.username, "discriminator": "0", "global_name": in.username,
		"avatar": nil, "public_flags": 0,
	}
}

// errNoSession is returned when nothing could receive a dispatch.
var errNoSession = errors.New("fakediscord: no gateway session has identified")

// SendInteraction dispatches an INTERACTION_CREATE, as Discord does when
// a user invokes a command, to every gateway session of the shard that
// owns the guild; a session whose connection is down gets it when it
// resumes. The command's ID is the registered one if a command of that
// name was registered (guild commands first), else a fresh snowflake. It
// fails if no session has identified.
func (s *Server) SendInteraction(i Interaction) (SentInteraction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkInteraction(&i); err != nil {
		return SentInteraction{}, fmt.Errorf("fakediscord: SendInteraction: %w", err)
	}
	sessions := s.sessionsFor(i.GuildID)
	if len(sessions) == 0 {
		return SentInteraction{}, errNoSession
	}
	sent, err := s.createInteraction(i)
	if err != nil {
		return SentInteraction{}, fmt.Errorf("fakediscord: SendInteraction: %w", err)
	}
	s.dispatchInteraction(&sent, sessions)
	s.notify()
	return sent, nil
}

// SendInteractions dispatches several INTERACTION_CREATEs as
// SendInteraction does, as one burst: all are built first, then written
// back to back, as when many users invoke commands at the same moment.
// Each one's SentAt (and callback deadline) is when its own dispatch was
// written. It sends nothing if any interaction is invalid or has no
// session to go to.
func (s *Server) SendInteractions(is []Interaction) ([]SentInteraction, error) {
	is = slices.Clone(is) // checkInteraction fills in defaults
	s.mu.Lock()
	defer s.mu.Unlock()
	sessions := make([][]*gwSession, len(is))
	for n := range is {
		if err := s.checkInteraction(&is[n]); err != nil {
			return nil, fmt.Errorf("fakediscord: SendInteractions: interaction %d: %w", n, err)
		}
		if sessions[n] = s.sessionsFor(is[n].GuildID); len(sessions[n]) == 0 {
			return nil, errNoSession
		}
	}
	sent := make([]SentInteraction, len(is))
	for n, i := range is {
		var err error
		if sent[n], err = s.createInteraction(i); err != nil {
			return nil, fmt.Errorf("fakediscord: SendInteractions: interaction %d: %w", n, err)
		}
	}
	for n := range sent {
		s.dispatchInteraction(&sent[n], sessions[n])
	}
	s.notify()
	return sent, nil
}

// dispatchInteraction starts a created interaction's deadline and sends
// it to sessions; s.mu is held.
func (s *Server) dispatchInteraction(sent *SentInteraction, sessions []*gwSession) {
	in := s.interactions[sent.ID]
	in.sentAt = time.Now()
	sent.SentAt = in.sentAt
	for _, sess := range sessions {
		s.dispatch(sess, "INTERACTION_CREATE", sent.Payload)
	}
}

// CreateInteraction creates an interaction as SendInteraction does, but
// delivers it nowhere: its Payload is the JSON Discord would dispatch as
// INTERACTION_CREATE's data or POST to an Interactions Endpoint URL (see
// PostInteraction and SignatureHeaders). Its callback deadline starts
// now. No gateway session is needed.
func (s *Server) CreateInteraction(i Interaction) (SentInteraction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkInteraction(&i); err != nil {
		return SentInteraction{}, fmt.Errorf("fakediscord: CreateInteraction: %w", err)
	}
	sent, err := s.createInteraction(i)
	if err != nil {
		return SentInteraction{}, fmt.Errorf("fakediscord: CreateInteraction: %w", err)
	}
	s.notify()
	return sent, nil
}

// checkInteraction validates i and fills in its defaults; s.mu is held.
func (s *Server) checkInteraction(i *Interaction) error {
	if i.Type == 0 {
		i.Type = InteractionApplicationCommand
	}
	switch i.Type {
	case InteractionApplicationCommand, InteractionAutocomplete:
		if i.Name == "" {
			return errors.New("missing Name")
		}
	case InteractionMessageComponent:
		if _, err := s.clickedMessage(*i); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unsupported type %d", i.Type)
	}
	if !isSnowflake(i.ChannelID) {
		return fmt.Errorf("ChannelID %q is not a snowflake", i.ChannelID)
	}
	if i.GuildID != "" && !isSnowflake(i.GuildID) {
		return fmt.Errorf("GuildID %q is not a snowflake", i.GuildID)
	}
	if s.closed {
		return errClosed
	}
	return nil
}

// clickedMessage returns the message a component interaction clicks an
// enabled button of; s.mu is held.
func (s *Server) clickedMessage(i Interaction) (*message, error) {
	m := s.messages[i.MessageID]
	switch {
	case i.MessageID == "":
		return nil, errors.New("missing MessageID")
	case m == nil || m.channelID != i.ChannelID:
		return nil, fmt.Errorf("no message %s in channel %s", i.MessageID, i.ChannelID)
	case i.CustomID == "":
		return nil, errors.New("missing CustomID")
	}
	for _, b := range m.buttons() {
		if b.CustomID == i.CustomID {
			if b.Disabled {
				return nil, fmt.Errorf("button %q of message %s is disabled", i.CustomID, m.id)
			}
			return m, nil
		}
	}
	return nil, fmt.Errorf("message %s has no button %q", m.id, i.CustomID)
}

// createInteraction records a checked interaction and builds its
// payload; s.mu is held.
func (s *Server) createInteraction(i Interaction) (SentInteraction, error) {
	var clicked *message
	if i.Type == InteractionMessageComponent {
		clicked, _ = s.clickedMessage(i)
		if answered := s.interactions[clicked.interactionID]; answered != nil && i.User.ID == "" {
			i.User = User{ID: answered.userID, Username: answered.username}
		}
	}
	if i.User.ID == "" {
		i.User.ID, _ = s.newID()
	}
	if i.User.Username == "" {
		i.User.Username = "tester"
	}
	if i.Permissions == 0 {
		i.Permissions = DefaultPermissions
	}
	if i.AppPermissions == 0 {
		i.AppPermissions = s.channel(i.ChannelID).permissions()
	}
	if i.Locale == "" {
		i.Locale = "en-US"
	}
	if _, known := s.channels[i.ChannelID]; !known {
		s.channels[i.ChannelID] = &channelState{Channel: Channel{ID: i.ChannelID, GuildID: i.GuildID, Name: "channel-" + i.ChannelID}}
	}
	if i.GuildID == "" {
		s.channels[i.ChannelID].Type = 1
	}
	id, _ := s.newID()
	in := &interactionState{
		id: id, token: s.opaque("aW50ZXJhY3Rpb246", 32), typ: i.Type, guildID: i.GuildID,
		channelID: i.ChannelID, userID: i.User.ID, username: i.User.Username, sentAt: time.Now(),
		message: clicked,
	}
	raw, err := json.Marshal(s.interactionPayload(in, i))
	if err != nil {
		return SentInteraction{}, err
	}
	s.interactions[in.id] = in
	s.byToken[in.token] = in
	return SentInteraction{ID: in.id, Token: in.token, Payload: raw, SentAt: in.sentAt}, nil
}

// interactionPayload builds INTERACTION_CREATE's data; s.mu is held.
func (s *Server) interactionPayload(in *interactionState, i Interaction) map[string]any {
	user := in.user()
	perms := strconv.FormatInt(i.Permissions, 10)
	appPerms := strconv.FormatInt(i.AppPermissions, 10)
	var data map[string]any
	if in.message != nil {
		data = map[string]any{"custom_id": i.CustomID, "component_type": componentButton}
	} else {
		data = s.commandData(i)
	}
	ch := s.channels[i.ChannelID].object(s.opts.BotUserID)
	ch["permissions"] = appPerms
	p := map[string]any{
		"id": in.id, "application_id": s.opts.AppID, "type": int(i.Type), "data": data,
		"channel_id": i.ChannelID, "channel": ch, "token": in.token, "version": 1,
		"locale": i.Locale, "app_permissions": appPerms, "entitlements": []any{},
		"attachment_size_limit": 10 << 20,
	}
	if in.message != nil {
		p["message"] = s.messageObject(in.message)
	}
	if i.GuildID != "" {
		p["guild_id"] = i.GuildID
		p["guild_locale"] = "en-US"
		p["guild"] = map[string]any{"id": i.GuildID, "locale": "en-US", "features": []any{}}
		p["member"] = map[string]any{
			"user": user, "roles": orEmpty(i.Roles), "permissions": perms,
			"joined_at": timestamp(time.UnixMilli(idBaseMs).UTC()), "nick": nil, "avatar": nil,
			"deaf": false, "mute": false, "flags": 0, "pending": false, "premium_since": nil,
			"communication_disabled_until": nil,
		}
		p["authorizing_integration_owners"] = map[string]any{"0": i.GuildID}
		p["context"] = 0
	} else {
		p["user"] = user
		p["authorizing_integration_owners"] = map[string]any{"0": "0"}
		p["context"] = 1
	}
	return p
}

// commandData builds a command or autocomplete interaction's data; s.mu
// is held.
func (s *Server) commandData(i Interaction) map[string]any {
	data := map[string]any{"name": i.Name, "type": 1}
	if cmd := s.findCommand(i.GuildID, i.Name); cmd != nil {
		data["id"] = cmd.id
		if cmd.guildID != "" {
			data["guild_id"] = cmd.guildID
		}
	} else {
		data["id"], _ = s.newID()
	}
	if len(i.Options) > 0 {
		data["options"] = optionsJSON(i.Options)
	}
	if res := s.resolved(i); len(res) > 0 {
		data["resolved"] = res
	}
	return data
}

func optionsJSON(opts []Option) []any {
	out := []any{}
	for _, o := range opts {
		m := map[string]any{"name": o.Name, "type": int(o.Type)}
		if o.Type == OptionSubCommand || o.Type == OptionSubCommandGroup {
			m["options"] = optionsJSON(o.Options)
		} else {
			m["value"] = o.Value
		}
		if o.Focused {
			m["focused"] = true
		}
		out = append(out, m)
	}
	return out
}

// resolved builds data.resolved for the user, channel and role options.
func (s *Server) resolved(i Interaction) map[string]any {
	res := map[string]map[string]any{}
	add := func(kind, id string, v map[string]any) {
		if res[kind] == nil {
			res[kind] = map[string]any{}
		}
		res[kind][id] = v
	}
	var walk func([]Option)
	walk = func(opts []Option) {
		for _, o := range opts {
			walk(o.Options)
			id, _ := o.Value.(string)
			if id == "" || o.Focused {
				continue
			}
			switch o.Type {
			case OptionChannel:
				// Discord's resolved channels carry the invoking member's
				// permissions there, not the bot's: the fake gives members
				// the same permissions in every channel.
				ch := map[string]any{"id": id, "name": "channel-" + id, "type": 0, "permissions": strconv.FormatInt(i.Permissions, 10)}
				if c := s.channels[id]; c != nil {
					ch["name"], ch["type"] = c.Name, c.Type
				}
				add("channels", id, ch)
			case OptionUser:
				add("users", id, map[string]any{"id": id, "username": "user-" + id, "discriminator": "0", "global_name": nil, "avatar": nil, "public_flags": 0})
				if i.GuildID != "" {
					add("members", id, map[string]any{"roles": []any{}, "joined_at": timestamp(time.UnixMilli(idBaseMs).UTC()), "nick": nil, "permissions": strconv.FormatInt(DefaultPermissions, 10), "flags": 0, "pending": false})
				}
			case OptionRole:
				add("roles", id, map[string]any{"id": id, "name": "role-" + id, "permissions": "0", "position": 1, "color": 0, "hoist": false, "managed": false, "mentionable": false, "flags": 0})
			}
		}
	}
	walk(i.Options)
	out := map[string]any{}
	for k, v := range res {
		out[k] = v
	}
	return out
}

// interactionOf returns the interaction a REST path is about, if any;
// s.mu is held.
func (s *Server) interactionOf(path string) *interactionState {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(segs) >= 3 && segs[0] == "interactions":
		if in := s.interactions[segs[1]]; in != nil && in.token == segs[2] {
			return in
		}
	case len(segs) >= 3 && segs[0] == "webhooks":
		return s.byToken[segs[2]]
	}
	return nil
}

// InteractionResponses returns the requests about an interaction, in
// order: its callback and every request to its webhook (original
// response and followups), including failed ones.
func (s *Server) InteractionResponses(interactionID string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.interactions[interactionID]
	if in == nil {
		return nil
	}
	out := make([]Request, 0, len(in.requests))
	for _, i := range in.requests {
		out = append(out, s.requests[i])
	}
	return out
}

// WaitInteractionResponse waits until the interaction's callback (POST
// /interactions/{id}/{token}/callback) has been accepted and returns it;
// its JSON holds the response type (4 message, 5 deferred, 6 deferred
// update of a component's message, 7 update of it, 8 autocomplete
// choices) and data.
func (s *Server) WaitInteractionResponse(ctx context.Context, interactionID string) (Request, error) {
	var got Request
	err := s.waitFor(ctx, func() bool {
		in := s.interactions[interactionID]
		if in == nil {
			return false
		}
		for _, i := range in.requests {
			r := s.requests[i]
			if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/callback") && r.Status == http.StatusNoContent {
				got = r
				return true
			}
		}
		return false
	})
	if err != nil {
		return Request{}, fmt.Errorf("fakediscord: waiting for the response to interaction %s: %w", interactionID, err)
	}
	return got, nil
}

// WaitResponseMessage waits until the interaction's original response is
// a finished message, that is after a type 4 callback or, after a
// deferred (type 5) one, after the first edit of @original, and returns
// it. For a component interaction answered with type 6 or 7, it is the
// message the component is on.
func (s *Server) WaitResponseMessage(ctx context.Context, interactionID string) (Message, error) {
	var got Message
	err := s.waitFor(ctx, func() bool {
		in := s.interactions[interactionID]
		if in == nil || in.original == nil || in.original.flags&flagLoading != 0 {
			return false
		}
		got = in.original.export(s)
		return true
	})
	if err != nil {
		return Message{}, fmt.Errorf("fakediscord: waiting for the response message of interaction %s: %w", interactionID, err)
	}
	return got, nil
}

func unknownInteraction() reply {
	return apiError(http.StatusNotFound, 10062, "Unknown interaction")
}

// interactionCallback answers POST /interactions/{id}/{token}/callback.
// A component interaction may also be answered with type 6 (deferred
// update) or 7 (update): the message the component is on becomes the
// interaction's @original, and type 7 edits it as PATCH would, its
// ephemeral flag kept. The message must still exist.
func (s *Server) interactionCallback(c *call) reply {
	in := s.interactions[c.params[0]]
	if in == nil || in.token != c.params[1] {
		return unknownInteraction()
	}
	if in.acked {
		return apiError(http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
	}
	if d := s.opts.CallbackDeadline; d > 0 && time.Since(in.sentAt) > d {
		return unknownInteraction()
	}
	o, rep, ok := bodyObject(c)
	if !ok {
		return rep
	}
	t, _ := o["type"].(float64)
	typ := int(t)
	valid := []int{4, 5, 9}
	switch in.typ {
	case InteractionAutocomplete:
		valid = []int{8}
	case InteractionMessageComponent:
		valid = []int{4, 5, 6, 7, 9}
	}
	if !slices.Contains(valid, typ) {
		return formError(fieldError{"type", "BASE_TYPE_CHOICES", fmt.Sprintf("Value must be one of %v.", valid)})
	}
	data, _ := o["data"].(map[string]any)
	switch typ {
	case 6, 7:
		// The component's message becomes @original; type 7 edits it now.
		m := in.message
		if s.messages[m.id] != m {
			return unknownMessage()
		}
		if typ == 7 {
			if data == nil {
				data = map[string]any{}
			}
			if errs := validateMessage(data); len(errs) > 0 {
				for i := range errs {
					errs[i].path = strings.TrimSuffix("data."+errs[i].path, ".")
				}
				return formError(errs...)
			}
			body, _ := json.Marshal(data)
			if rep := s.patchMessage(m, &call{body: body, json: data}, flagSuppressEmbeds); rep.status != http.StatusOK {
				return rep
			}
		}
		in.original = m
	case 4, 5:
		if data == nil {
			data = map[string]any{}
		}
		if errs := validateMessage(data); len(errs) > 0 {
			for i := range errs {
				errs[i].path = strings.TrimSuffix("data."+errs[i].path, ".")
			}
			return formError(errs...)
		}
		id, created := s.newID()
		m := &message{
			id: id, channelID: in.channelID, guildID: in.guildID, created: created, wallCreated: time.Now(),
			msgType: 20, interactionID: in.id,
		}
		if raw, ok := o["data"]; ok && raw != nil {
			b, _ := json.Marshal(raw)
			m.sent = []json.RawMessage{b}
		}
		m.applyBody(data, flagEphemeral|flagSuppressEmbeds|flagSuppressNotifications)
		if typ == 5 {
			m.flags |= flagLoading
		} else if m.isEmpty(len(c.files)) {
			return emptyMessage()
		}
		in.original = m
		s.addMessage(m)
	case 8:
		choices := anySlice(data["choices"])
		if len(choices) > 25 {
			return formError(fieldError{"data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."})
		}
		for i, ch := range choices {
			co, _ := ch.(map[string]any)
			name, _ := co["name"].(string)
			if n := utf8.RuneCountInString(name); n < 1 || n > 100 {
				return formError(fieldError{fmt.Sprintf("data.choices.%d.name", i), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."})
			}
			if v, isStr := co["value"].(string); isStr && utf8.RuneCountInString(v) > 100 {
				return formError(fieldError{fmt.Sprintf("data.choices.%d.value", i), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."})
			}
		}
	}
	in.acked = true
	return noContent()
}

// webhookInteraction resolves /webhooks/{app}/{token}; s.mu is held.
func (s *Server) webhookInteraction(c *call) (*interactionState, reply, bool) {
	if !isSnowflake(c.params[0]) {
		return nil, notSnowflake("webhook_id", c.params[0]), false
	}
	in := s.byToken[c.params[1]]
	if in == nil || c.params[0] != s.opts.AppID {
		return nil, apiError(http.StatusNotFound, 10015, "Unknown Webhook"), false
	}
	if time.Since(in.sentAt) > 15*time.Minute {
		return nil, apiError(http.StatusUnauthorized, 50027, "Invalid Webhook Token"), false
	}
	return in, reply{}, true
}

func unknownMessage() reply { return apiError(http.StatusNotFound, 10008, "Unknown Message") }

// getOriginal answers GET /webhooks/{app}/{token}/messages/@original.
func (s *Server) getOriginal(c *call) reply {
	in, rep, ok := s.webhookInteraction(c)
	if !ok {
		return rep
	}
	if in.original == nil {
		return unknownMessage()
	}
	return success(s.messageObject(in.original))
}

// editOriginal answers PATCH /webhooks/{app}/{token}/messages/@original.
func (s *Server) editOriginal(c *call) reply {
	in, rep, ok := s.webhookInteraction(c)
	if !ok {
		return rep
	}
	if in.original == nil {
		return unknownMessage()
	}
	return s.patchMessage(in.original, c, flagSuppressEmbeds)
}

// deleteOriginal answers DELETE /webhooks/{app}/{token}/messages/@original.
func (s *Server) deleteOriginal(c *call) reply {
	in, rep, ok := s.webhookInteraction(c)
	if !ok {
		return rep
	}
	if in.original == nil {
		return unknownMessage()
	}
	s.removeMessage(in.original)
	in.original = nil
	return noContent()
}

// createFollowup answers POST /webhooks/{app}/{token}: 200 with the
// message when ?wait=true, else 204.
func (s *Server) createFollowup(c *call) reply {
	in, rep, ok := s.webhookInteraction(c)
	if !ok {
		return rep
	}
	if !in.acked {
		return apiError(http.StatusNotFound, 10015, "Unknown Webhook")
	}
	o, rep, ok := bodyObject(c)
	if !ok {
		return rep
	}
	if errs := validateMessage(o); len(errs) > 0 {
		return formError(errs...)
	}
	id, created := s.newID()
	m := &message{
		id: id, channelID: in.channelID, guildID: in.guildID, created: created, wallCreated: time.Now(),
		msgType: 20, interactionID: in.id, sent: []json.RawMessage{sentJSON(c)},
	}
	m.applyBody(o, flagEphemeral|flagSuppressEmbeds|flagSuppressNotifications)
	if m.isEmpty(len(c.files)) {
		return emptyMessage()
	}
	s.addMessage(m)
	if c.query.Get("wait") != "true" {
		return noContent()
	}
	return success(s.messageObject(m))
}

// followup finds a message of the interaction by ID; s.mu is held.
func (s *Server) followup(c *call) (*message, reply, bool) {
	in, rep, ok := s.webhookInteraction(c)
	if !ok {
		return nil, rep, false
	}
	m := s.messages[c.params[2]]
	if m == nil || m.interactionID != in.id {
		return nil, unknownMessage(), false
	}
	return m, reply{}, true
}

// getFollowup answers GET /webhooks/{app}/{token}/messages/{message}.
func (s *Server) getFollowup(c *call) reply {
	m, rep, ok := s.followup(c)
	if !ok {
		return rep
	}
	return success(s.messageObject(m))
}

// editFollowup answers PATCH /webhooks/{app}/{token}/messages/{message}.
func (s *Server) editFollowup(c *call) reply {
	m, rep, ok := s.followup(c)
	if !ok {
		return rep
	}
	return s.patchMessage(m, c, flagSuppressEmbeds)
}

// deleteFollowup answers DELETE /webhooks/{app}/{token}/messages/{message}.
func (s *Server) deleteFollowup(c *call) reply {
	m, rep, ok := s.followup(c)
	if !ok {
		return rep
	}
	if in := s.interactions[m.interactionID]; in != nil && in.original == m {
		in.original = nil
	}
	s.removeMessage(m)
	return noContent()
}

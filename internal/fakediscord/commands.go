package fakediscord

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Command is a registered application command.
type Command struct {
	ID      string
	GuildID string // "" for a global command
	Name    string
	Type    int // 1 slash command, 2 user, 3 message context menu
	// JSON is the command object as the fake returns it.
	JSON json.RawMessage
}

type command struct {
	id, guildID, name string
	typ               int
	obj               map[string]any
}

// Commands returns the commands registered for a guild, or the global
// ones for guildID "".
func (s *Server) Commands(guildID string) []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Command
	for _, c := range s.commands[guildID] {
		b, _ := json.Marshal(c.obj)
		out = append(out, Command{ID: c.id, GuildID: c.guildID, Name: c.name, Type: c.typ, JSON: b})
	}
	return out
}

// findCommand returns the slash command invoked by name in a guild:
// the guild's own, else the global one; s.mu is held.
func (s *Server) findCommand(guildID, name string) *command {
	scopes := []string{""}
	if guildID != "" {
		scopes = []string{guildID, ""}
	}
	for _, g := range scopes {
		for _, c := range s.commands[g] {
			if c.name == name && c.typ == 1 {
				return c
			}
		}
	}
	return nil
}

// commandScope checks the application and guild of a commands path and
// returns the guild ID ("" for global) and the remaining parameters;
// s.mu is held.
func (s *Server) commandScope(c *call) (string, []string, reply, bool) {
	if !isSnowflake(c.params[0]) {
		return "", nil, notSnowflake("application_id", c.params[0]), false
	}
	if c.params[0] != s.opts.AppID {
		return "", nil, apiError(http.StatusForbidden, 50001, "Missing Access"), false
	}
	rest := c.params[1:]
	if !strings.Contains(c.route.path, "/guilds/") {
		return "", rest, reply{}, true
	}
	g := rest[0]
	if !isSnowflake(g) {
		return "", nil, notSnowflake("guild_id", g), false
	}
	if !s.knownGuild(g) {
		return "", nil, apiError(http.StatusForbidden, 50001, "Missing Access"), false
	}
	return g, rest[1:], reply{}, true
}

func (s *Server) commandList(guildID string) []any {
	out := []any{}
	for _, c := range s.commands[guildID] {
		out = append(out, c.obj)
	}
	return out
}

// getCommands answers GET /applications/{app}[/guilds/{guild}]/commands.
func (s *Server) getCommands(c *call) reply {
	g, _, rep, ok := s.commandScope(c)
	if !ok {
		return rep
	}
	return success(s.commandList(g))
}

// putCommands answers PUT /applications/{app}[/guilds/{guild}]/commands:
// the list replaces every command of the scope; commands keep their IDs
// when one of the same name and type existed.
func (s *Server) putCommands(c *call) reply {
	g, _, rep, ok := s.commandScope(c)
	if !ok {
		return rep
	}
	list, isList := c.json.([]any)
	if !isList && c.json != nil {
		return formError(fieldError{"", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"})
	}
	var errs []fieldError
	seen := map[string]bool{}
	chat := 0
	for i, v := range list {
		o, _ := v.(map[string]any)
		errs = append(errs, validateCommand(fmt.Sprint(i), o)...)
		typ, name := commandKey(o)
		if typ == 1 {
			chat++
		}
		key := fmt.Sprint(typ, name)
		if seen[key] {
			errs = append(errs, fieldError{"", "APPLICATION_COMMANDS_DUPLICATE_NAME", fmt.Sprintf("Application command names must be unique (%s)", name)})
		}
		seen[key] = true
	}
	if chat > 100 {
		errs = append(errs, fieldError{"", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length."})
	}
	if len(errs) > 0 {
		return formError(errs...)
	}
	prev := s.commands[g]
	var next []*command
	for _, v := range list {
		next = append(next, s.newCommand(g, v.(map[string]any), prev))
	}
	s.commands[g] = next
	s.notify()
	return success(s.commandList(g))
}

// postCommand answers POST /applications/{app}[/guilds/{guild}]/commands:
// it creates (201) or, for an existing name and type, replaces (200).
func (s *Server) postCommand(c *call) reply {
	g, _, rep, ok := s.commandScope(c)
	if !ok {
		return rep
	}
	o, rep, ok := bodyObject(c)
	if !ok {
		return rep
	}
	if errs := validateCommand("", o); len(errs) > 0 {
		return formError(errs...)
	}
	prev := s.commands[g]
	cmd := s.newCommand(g, o, prev)
	for i, p := range prev {
		if p.id == cmd.id {
			s.commands[g][i] = cmd
			s.notify()
			return success(cmd.obj)
		}
	}
	s.commands[g] = append(s.commands[g], cmd)
	s.notify()
	return reply{http.StatusCreated, cmd.obj}
}

func unknownCommand() reply {
	return apiError(http.StatusNotFound, 10063, "Unknown application command")
}

// getCommand answers GET …/commands/{command}.
func (s *Server) getCommand(c *call) reply {
	g, rest, rep, ok := s.commandScope(c)
	if !ok {
		return rep
	}
	for _, cmd := range s.commands[g] {
		if cmd.id == rest[0] {
			return success(cmd.obj)
		}
	}
	return unknownCommand()
}

// deleteCommand answers DELETE …/commands/{command}.
func (s *Server) deleteCommand(c *call) reply {
	g, rest, rep, ok := s.commandScope(c)
	if !ok {
		return rep
	}
	for i, cmd := range s.commands[g] {
		if cmd.id == rest[0] {
			s.commands[g] = append(s.commands[g][:i:i], s.commands[g][i+1:]...)
			s.notify()
			return noContent()
		}
	}
	return unknownCommand()
}

func commandKey(o map[string]any) (int, string) {
	typ := 1
	if t, ok := o["type"].(float64); ok {
		typ = int(t)
	}
	name, _ := o["name"].(string)
	return typ, name
}

// newCommand builds the stored command for a validated object, keeping
// the ID of a previous command of the same name and type; s.mu is held.
func (s *Server) newCommand(guildID string, o map[string]any, prev []*command) *command {
	typ, name := commandKey(o)
	id := ""
	for _, p := range prev {
		if p.name == name && p.typ == typ {
			id = p.id
		}
	}
	if id == "" {
		id, _ = s.newID()
	}
	version, _ := s.newID()
	obj := maps.Clone(o)
	obj["id"] = id
	obj["application_id"] = s.opts.AppID
	obj["version"] = version
	obj["type"] = typ
	for k, v := range map[string]any{
		"description": "", "default_member_permissions": nil, "nsfw": false,
		"name_localizations": nil, "description_localizations": nil,
	} {
		if _, has := obj[k]; !has {
			obj[k] = v
		}
	}
	if guildID != "" {
		obj["guild_id"] = guildID
		delete(obj, "dm_permission")
	} else {
		if _, has := obj["dm_permission"]; !has {
			obj["dm_permission"] = true
		}
		if _, has := obj["integration_types"]; !has {
			obj["integration_types"] = []any{0}
		}
		if _, has := obj["contexts"]; !has {
			obj["contexts"] = nil
		}
	}
	if opts, _ := obj["options"].([]any); len(opts) == 0 {
		delete(obj, "options")
	}
	return &command{id: id, guildID: guildID, name: name, typ: typ, obj: obj}
}

// chatName is Discord's rule for slash command and option names (which
// must also be lower case).
var chatName = regexp.MustCompile(`^[-_'\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// validateCommand checks one command object at path ("" or its index).
func validateCommand(path string, o map[string]any) []fieldError {
	if o == nil {
		return []fieldError{{path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"}}
	}
	var errs []fieldError
	typ, name := commandKey(o)
	if typ < 1 || typ > 4 {
		errs = append(errs, fieldError{join(path, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4}."})
	}
	if typ == 1 {
		if !chatName.MatchString(name) || strings.ToLower(name) != name {
			errs = append(errs, fieldError{join(path, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"})
		}
		errs = append(errs, badLength(join(path, "description"), o["description"], 1, 100)...)
	} else if n := utf8.RuneCountInString(name); n < 1 || n > 32 {
		errs = append(errs, fieldError{join(path, "name"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."})
	}
	if p, ok := o["default_member_permissions"]; ok && p != nil {
		if ps, isStr := p.(string); !isStr || strings.Trim(ps, "0123456789") != "" || ps == "" {
			errs = append(errs, fieldError{join(path, "default_member_permissions"), "NUMBER_TYPE_COERCE", fmt.Sprintf("Value %q is not int.", fmt.Sprint(p))})
		}
	}
	if v, ok := o["options"]; ok && v != nil {
		errs = append(errs, validateOptions(join(path, "options"), v, 0)...)
	}
	return errs
}

// validateOptions checks a list of command options nested depth levels
// below the command (subcommand groups are depth 0, subcommands 0 or 1).
func validateOptions(path string, v any, depth int) []fieldError {
	opts, ok := v.([]any)
	if !ok {
		return []fieldError{{path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"}}
	}
	var errs []fieldError
	if len(opts) > 25 {
		errs = append(errs, fieldError{path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."})
	}
	seen := map[string]bool{}
	optional, subs, values := false, 0, 0
	for i, ov := range opts {
		p := fmt.Sprintf("%s.%d", path, i)
		o, _ := ov.(map[string]any)
		if o == nil {
			errs = append(errs, fieldError{p, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"})
			continue
		}
		t, _ := o["type"].(float64)
		typ := OptionType(t)
		name, _ := o["name"].(string)
		if typ < OptionSubCommand || typ > OptionAttachment {
			errs = append(errs, fieldError{join(p, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}."})
		}
		if !chatName.MatchString(name) || strings.ToLower(name) != name {
			errs = append(errs, fieldError{join(p, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"})
		}
		if seen[name] {
			errs = append(errs, fieldError{join(p, "name"), "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS", "Option name " + name + " is already used in these options"})
		}
		seen[name] = true
		errs = append(errs, badLength(join(p, "description"), o["description"], 1, 100)...)
		switch typ {
		case OptionSubCommandGroup:
			subs++
			if depth > 0 {
				errs = append(errs, fieldError{join(p, "type"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Sub-command groups cannot be nested"})
			}
			for j, so := range anySlice(o["options"]) {
				if st, _ := so.(map[string]any)["type"].(float64); OptionType(st) != OptionSubCommand {
					errs = append(errs, fieldError{fmt.Sprintf("%s.options.%d.type", p, j), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Sub-command groups may only contain sub-commands"})
				}
			}
			if sv, ok := o["options"]; ok && sv != nil {
				errs = append(errs, validateOptions(join(p, "options"), sv, depth+1)...)
			}
		case OptionSubCommand:
			subs++
			if depth > 1 {
				errs = append(errs, fieldError{join(p, "type"), "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Sub-commands nest too deeply"})
			}
			if sv, ok := o["options"]; ok && sv != nil {
				errs = append(errs, validateOptions(join(p, "options"), sv, 2)...)
			}
		default:
			values++
			req, _ := o["required"].(bool)
			if req && optional {
				errs = append(errs, fieldError{path, "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options"})
			}
			if !req {
				optional = true
			}
			choices := anySlice(o["choices"])
			if len(choices) > 25 {
				errs = append(errs, fieldError{join(p, "choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."})
			}
			if len(choices) > 0 && o["autocomplete"] == true {
				errs = append(errs, fieldError{join(p, "autocomplete"), "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE", "Autocomplete cannot be set with choices"})
			}
			for j, ch := range choices {
				co, _ := ch.(map[string]any)
				errs = append(errs, badLength(fmt.Sprintf("%s.choices.%d.name", p, j), co["name"], 1, 100)...)
			}
		}
	}
	if subs > 0 && values > 0 {
		errs = append(errs, fieldError{path, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Sub-command and sub-command group option types are mutually exclusive to all other types"})
	}
	return errs
}

func badLength(path string, v any, lo, hi int) []fieldError {
	s, _ := v.(string)
	if n := utf8.RuneCountInString(s); n < lo || n > hi {
		return []fieldError{{path, "BASE_TYPE_BAD_LENGTH", fmt.Sprintf("Must be between %d and %d in length.", lo, hi)}}
	}
	return nil
}

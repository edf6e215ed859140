package core

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
)

// The page's methods whose arguments arrive as JSON (the binding
// serialises each argument; wasmeow.js's #json): each file registers its
// own, decoding its arguments here, natively, with coded errors. The
// binding gives the page one method per name and the result's JSON back.

// Call is one such method: args are the arguments' JSON (null for
// undefined), the result is given to the page as its JSON.
type Call func(c *Client, ctx context.Context, args []json.RawMessage) (any, error)

var calls = map[string]Call{}

// register adds a page method; a name registered twice is a programming
// error, found at start-up.
func register(name string, fn Call) {
	if _, dup := calls[name]; dup {
		panic("core: page method " + name + " registered twice")
	}
	calls[name] = fn
}

// CallNames lists the page methods, sorted.
func CallNames() []string {
	out := make([]string, 0, len(calls))
	for name := range calls {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// CallJSON runs the page method name with its arguments' JSON.
func (c *Client) CallJSON(ctx context.Context, name string, args []json.RawMessage) (any, error) {
	fn, ok := calls[name]
	if !ok {
		return nil, Errorf(CodeInvalidOption, "no method %s", name)
	}
	if err := c.Alive(); err != nil {
		return nil, err
	}
	return fn(c, ctx, args)
}

// arg is argument i's JSON (null when absent).
func arg(args []json.RawMessage, i int) json.RawMessage {
	if i >= len(args) || len(args[i]) == 0 {
		return json.RawMessage("null")
	}
	return args[i]
}

// stringArg reads argument i as a string.
func stringArg(args []json.RawMessage, i int, sig, name string) (string, error) {
	var s *string
	if err := json.Unmarshal(arg(args, i), &s); err != nil || s == nil {
		return "", Errorf(CodeInvalidOption, "%s: %s must be a string", sig, name)
	}
	return *s, nil
}

// maxListArg bounds an array argument (JIDs, ids, phones): more in one call
// is no page's need, and each becomes a node of one query.
const maxListArg = 1000

// stringsArg reads argument i as a non-empty array of strings.
func stringsArg(args []json.RawMessage, i int, sig, name string) ([]string, error) {
	var s []string
	if err := json.Unmarshal(arg(args, i), &s); err != nil || len(s) == 0 || len(s) > maxListArg {
		return nil, Errorf(CodeInvalidOption, "%s: %s must be an array of 1 to %d strings", sig, name, maxListArg)
	}
	return s, nil
}

// jidArg reads argument i as a chat (jids.go).
func jidArg(args []json.RawMessage, i int, sig, name string) (jid string, err error) {
	s, err := stringArg(args, i, sig, name)
	if err != nil {
		return "", Errorf(CodeInvalidJID, "%s: %s must be a JID string", sig, name)
	}
	if _, err := parseJID(s); err != nil {
		return "", WithCode(CodeInvalidJID, fmt.Errorf("%s: %w", sig, err))
	}
	return s, nil
}

func init() {
	register("sendMessage", func(c *Client, ctx context.Context, args []json.RawMessage) (any, error) {
		to, err := jidArg(args, 0, "sendMessage(jid, content)", "jid")
		if err != nil {
			return nil, err
		}
		return c.SendMessage(ctx, to, arg(args, 1))
	})
}

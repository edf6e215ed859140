package fakewa

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Control calls the JSON control API of a double at Base (its base URL,
// e.g. a cmd/fakewa process's), for programs that drive one from outside.
type Control struct{ Base string }

// Call sends body (nil for none) as JSON and decodes a 200 answer into out
// (nil to drop it); any other status is an error carrying the API's message.
func (c Control) Call(method, path string, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(c.Base, "/")+path, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, e.Error)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

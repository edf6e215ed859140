//go:build js

package main

import (
	"context"
	"encoding/json"
	"syscall/js"

	"github.com/wasmeow/wasmeow/core"
	"github.com/wasmeow/wasmeow/jsbridge"
)

// mediaMethods are the handle's media methods: downloadMedia(message).
// (Sending media is sendMessage's, core/sendmedia.go.)
func (c *client) mediaMethods() map[string]func(args []js.Value) (any, error) {
	bg := context.Background()
	return map[string]func(args []js.Value) (any, error){
		"downloadMedia": func(args []js.Value) (any, error) {
			if err := c.core.Alive(); err != nil {
				return nil, err
			}
			if len(args) == 0 || !isPlainObject(args[0]) {
				return nil, jsbridge.Errorf(core.CodeInvalidOption, "downloadMedia(message): message must be a message event's payload")
			}
			m := jsbridge.Get(args[0], "media")
			if jsbridge.IsNullish(m) || !isPlainObject(m) {
				return nil, jsbridge.Errorf(core.CodeInvalidOption, "downloadMedia(message): the message has no media (only image, video, audio, document and sticker messages have)")
			}
			var media core.Media
			if err := json.Unmarshal([]byte(js.Global().Get("JSON").Call("stringify", m).String()), &media); err != nil {
				return nil, jsbridge.Errorf(core.CodeInvalidOption, "downloadMedia(message): message.media is not as the message event gave it: %v", err)
			}
			data, err := c.core.DownloadMedia(bg, &media)
			if err != nil {
				return nil, err
			}
			return jsbridge.BytesToJS(data), nil
		},
	}
}

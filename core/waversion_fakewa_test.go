//go:build !js

package core

import (
	"testing"

	"github.com/wasmeow/wasmeow/fakewa"
)

// The version wasmeow announces by default is the double's idea of today's
// service: accepted by its default minimum, and newer than the pin's.
func TestDefaultWAVersionIsCurrent(t *testing.T) {
	if defaultWAVersion != fakewa.CurrentVersion {
		t.Errorf("defaultWAVersion %s, fakewa.CurrentVersion %s: keep them the same newest known version", defaultWAVersion, fakewa.CurrentVersion)
	}
	if defaultWAVersion.LessThan(fakewa.DefaultMinVersion) {
		t.Errorf("defaultWAVersion %s is older than fakewa's minimum %s", defaultWAVersion, fakewa.DefaultMinVersion)
	}
}

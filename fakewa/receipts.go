//go:build !js

package fakewa

// receiptTargetsLocked is who hears a receipt about a's message sent from its
// device dev: a delivery or retry receipt goes to that device, a read or
// played receipt to every device of a but the reader's (whatsmeow's own
// devices learn of reads by it too).
func receiptTargetsLocked(a *account, dev uint16, typ string, reader *device) []*device {
	var targets []*device
	if typ == "read" || typ == "read-self" || typ == "played" {
		for _, t := range a.sortedDevices() {
			if t != reader {
				targets = append(targets, t)
			}
		}
	} else if t := a.devices[dev]; t != nil {
		targets = append(targets, t)
	}
	return targets
}

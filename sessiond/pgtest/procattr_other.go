//go:build unix && !linux

package pgtest

import "syscall"

// serverProcAttr runs the server as cred (no parent-death signal outside Linux).
func serverProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true}
}

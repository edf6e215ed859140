package pgtest

import "syscall"

// serverProcAttr runs the server as cred, and has the kernel stop it if the
// test process dies without stopping it.
func serverProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

//go:build linux

package pgtest

import "syscall"

// sysProcAttr runs the child as cred (when not nil) and kills it if the
// test process dies.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
}

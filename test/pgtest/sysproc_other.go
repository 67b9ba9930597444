//go:build !linux

package pgtest

import "syscall"

// sysProcAttr runs the child as cred (when not nil).
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	if cred == nil {
		return nil
	}
	return &syscall.SysProcAttr{Credential: cred}
}

//go:build unix

package disclosure

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts the browser in its own process group so a timeout ends
// it and the renderer processes it started, not only the launcher.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

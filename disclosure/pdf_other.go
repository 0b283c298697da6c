//go:build !unix

package disclosure

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

// SPDX-License-Identifier: EUPL-1.2

package gctune

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// availableMemory is the cgroup v2 memory limit of the process if there is
// one, else the machine's physical memory; 0 if unknown.
func availableMemory() int64 {
	var info syscall.Sysinfo_t
	var phys int64
	if syscall.Sysinfo(&info) == nil {
		phys = int64(info.Totalram) * int64(info.Unit)
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 && (phys == 0 || v < phys) {
			return v
		}
	}
	return phys
}

// SPDX-License-Identifier: EUPL-1.2

package gctune

import (
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestApply runs in a child process per case, since GOGC and GOMEMLIMIT
// are read by the runtime at start and Apply changes process-wide state.
func TestApply(t *testing.T) {
	if os.Getenv("GCTUNE_CHILD") != "" {
		s := Apply()
		got := debug.SetGCPercent(-1)
		lim := debug.SetMemoryLimit(-1)
		want := os.Getenv("GCTUNE_WANT")
		switch want {
		case "default":
			if got != Percent || s.GCPercent != Percent || s.FromEnv {
				t.Fatalf("GC percent %d (reported %d, from env %v), want %d", got, s.GCPercent, s.FromEnv, Percent)
			}
			if runtime.GOOS == "linux" && (lim == math.MaxInt64 || lim <= 0) {
				t.Fatalf("no memory limit set on Linux (%d)", lim)
			}
			if m := availableMemory(); m > 0 && (lim != m/2 || s.MemoryLimit != m/2) {
				t.Fatalf("memory limit %d (reported %d), want half of the available %d", lim, s.MemoryLimit, m)
			}
		case "env":
			if got != 50 || s.GCPercent != 50 || !s.FromEnv {
				t.Fatalf("GC percent %d (reported %d, from env %v), want GOGC=50 kept", got, s.GCPercent, s.FromEnv)
			}
			if lim != 1<<30 || s.MemoryLimit != 1<<30 {
				t.Fatalf("memory limit %d (reported %d), want GOMEMLIMIT=1GiB kept", lim, s.MemoryLimit)
			}
		}
		return
	}
	for _, c := range []struct {
		name string
		env  []string
	}{
		{"default", nil},
		{"env", []string{"GOGC=50", "GOMEMLIMIT=1GiB"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestApply$", "-test.v")
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "GOGC=") && !strings.HasPrefix(kv, "GOMEMLIMIT=") {
					env = append(env, kv)
				}
			}
			cmd.Env = append(append(env, "GCTUNE_CHILD=1", "GCTUNE_WANT="+c.name), c.env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

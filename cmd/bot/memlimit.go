package main

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// setMemoryLimit sets the Go runtime's soft memory limit to 90% of the
// container's (cgroup v2 memory.max, else v1 memory.limit_in_bytes), unless
// GOMEMLIMIT is set: the garbage collector then works harder before the
// kernel's OOM killer would strike. It returns the limit set, or 0.
func setMemoryLimit(env Env) int64 {
	if env.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if limit := memoryLimit(string(b)); limit > 0 {
			debug.SetMemoryLimit(limit)
			return limit
		}
	}
	return 0
}

// memoryLimit reads a cgroup memory limit and gives 90% of it; 0 when there
// is none ("max", or v1's huge "unlimited" number) or it is unreadable.
func memoryLimit(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n >= 1<<60 {
		return 0
	}
	return n / 10 * 9
}

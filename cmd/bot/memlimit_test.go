package main

import "testing"

func TestMemoryLimitFromTheCgroup(t *testing.T) {
	for in, want := range map[string]int64{
		"268435456\n":           241591905, // 256 Mi → 90%
		"max\n":                 0,         // cgroup v2: no limit
		"9223372036854771712\n": 0,         // cgroup v1: no limit
		"":                      0,
		"garbage":               0,
	} {
		if got := memoryLimit(in); got != want {
			t.Errorf("memoryLimit(%q) = %d, want %d", in, got, want)
		}
	}
	if setMemoryLimit(Env{"GOMEMLIMIT": "100MiB"}) != 0 {
		t.Error("GOMEMLIMIT set by the operator was overridden")
	}
}

package main

import (
	"os"
	"strings"
)

func readTrimmed(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func bootID() string { return readTrimmed("/proc/sys/kernel/random/boot_id") }

func kernelVersion() string { return readTrimmed("/proc/sys/kernel/osrelease") }

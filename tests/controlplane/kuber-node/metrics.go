package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

const clockTicks = 100 // USER_HZ on Linux

// usage is CPU seconds and resident memory of some processes.
type usage struct {
	cpu float64
	mem uint64
}

// groupUsage sums /proc usage by process group, as a container's cgroup would: its processes'
// own time, and the time of their children that have exited.
func groupUsage() map[int]usage {
	out := map[int]usage{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	page := uint64(os.Getpagesize())
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		pgrp, u, children, ok := parseStat(string(b), page)
		if !ok {
			continue
		}
		// Ticks are 10 ms: a process that ran less shows 0 s, and metrics-server drops a
		// container whose CPU is 0. The scheduler's run time is in nanoseconds.
		u.cpu = max(u.cpu, runTime(filepath.Join(filepath.Dir(path), "schedstat"))) + children
		acc := out[pgrp]
		out[pgrp] = usage{cpu: acc.cpu + u.cpu, mem: acc.mem + u.mem}
	}
	return out
}

// parseStat reads pgrp, utime+stime, rss and cutime+cstime from /proc/PID/stat.
func parseStat(s string, page uint64) (int, usage, float64, bool) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, usage{}, 0, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 22 {
		return 0, usage{}, 0, false
	}
	n := func(i int) uint64 {
		v, _ := strconv.ParseUint(f[i], 10, 64)
		return v
	}
	pgrp, _ := strconv.Atoi(f[2])
	own := usage{cpu: float64(n(11)+n(12)) / clockTicks, mem: n(21) * page}
	return pgrp, own, float64(n(13)+n(14)) / clockTicks, true
}

// runTime is the first field of /proc/PID/schedstat (ns on a CPU, main thread) in seconds; 0
// when the kernel has no schedstat.
func runTime(path string) float64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	ns, _ := strconv.ParseUint(f[0], 10, 64)
	return float64(ns) / 1e9
}

// nodeUsage is the machine's CPU time (/proc/stat) and working set (/proc/meminfo).
func nodeUsage() usage {
	var u usage
	if f, err := os.Open("/proc/stat"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		if sc.Scan() {
			fields := strings.Fields(sc.Text())
			for i, v := range fields[1:] {
				if i == 3 || i == 4 { // idle, iowait
					continue
				}
				n, _ := strconv.ParseUint(v, 10, 64)
				u.cpu += float64(n) / clockTicks
			}
		}
	}
	mem := meminfo()
	u.mem = (mem["MemTotal"] - mem["MemAvailable"]) * 1024
	return u
}

func meminfo() map[string]uint64 {
	out := map[string]uint64{}
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			out[k] = n
		}
	}
	return out
}

// serveResourceMetrics is /metrics/resource in the kubelet's Prometheus text format.
func (a *agent) serveResourceMetrics(w http.ResponseWriter, node string) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	ts := time.Now().UnixMilli()
	groups := groupUsage()
	machine := nodeUsage()
	m := &metricWriter{w: w}
	m.family("node_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the node in core-seconds")
	m.sample("", machine.cpu, ts)
	m.family("node_memory_working_set_bytes", "gauge", "Current working set of the node in bytes")
	m.sample("", float64(machine.mem), ts)
	pods := a.podUsage(a.workersOn(node), groups)
	m.containers(pods, ts)
	m.pods(pods, ts)
	m.family("scrape_error", "gauge", "1 if there was an error while getting container metrics, 0 otherwise")
	m.sample("", 0, 0)
}

// ctrUsage is one running container's usage.
type ctrUsage struct {
	namespace, pod, container string
	start                     time.Time
	usage
}

func (a *agent) podUsage(workers []*podWorker, groups map[int]usage) []ctrUsage {
	var out []ctrUsage
	for _, pw := range workers {
		for _, c := range pw.ctrs {
			inst := c.current()
			if inst == nil || inst.cmd.Process == nil {
				continue
			}
			out = append(out, ctrUsage{pw.namespace, pw.name, c.spec.Name, inst.start, groups[inst.cmd.Process.Pid]})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.namespace+"/"+a.pod+"/"+a.container < b.namespace+"/"+b.pod+"/"+b.container
	})
	return out
}

type metricWriter struct {
	w    io.Writer
	name string
}

func (m *metricWriter) family(name, kind, help string) {
	fmt.Fprintf(m.w, "# HELP %s [STABLE] %s\n# TYPE %s %s\n", name, help, name, kind)
	m.name = name
}

func (m *metricWriter) sample(labels string, v float64, ts int64) {
	if labels != "" {
		labels = "{" + labels + "}"
	}
	if ts == 0 {
		fmt.Fprintf(m.w, "%s%s %s\n", m.name, labels, strconv.FormatFloat(v, 'g', -1, 64))
		return
	}
	fmt.Fprintf(m.w, "%s%s %s %d\n", m.name, labels, strconv.FormatFloat(v, 'g', -1, 64), ts)
}

func (m *metricWriter) containers(cs []ctrUsage, ts int64) {
	label := func(c ctrUsage) string {
		return fmt.Sprintf("container=%q,namespace=%q,pod=%q", c.container, c.namespace, c.pod)
	}
	m.family("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the container in core-seconds")
	for _, c := range cs {
		m.sample(label(c), c.cpu, ts)
	}
	m.family("container_memory_working_set_bytes", "gauge", "Current working set of the container in bytes")
	for _, c := range cs {
		m.sample(label(c), float64(c.mem), ts)
	}
	m.family("container_start_time_seconds", "gauge", "Start time of the container since unix epoch in seconds")
	for _, c := range cs {
		m.sample(label(c), float64(c.start.UnixNano())/1e9, ts)
	}
}

func (m *metricWriter) pods(cs []ctrUsage, ts int64) {
	type key struct{ ns, pod string }
	sums := map[key]usage{}
	var order []key
	for _, c := range cs {
		k := key{c.namespace, c.pod}
		if _, ok := sums[k]; !ok {
			order = append(order, k)
		}
		s := sums[k]
		sums[k] = usage{cpu: s.cpu + c.cpu, mem: s.mem + c.mem}
	}
	m.family("pod_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the pod in core-seconds")
	for _, k := range order {
		m.sample(fmt.Sprintf("namespace=%q,pod=%q", k.ns, k.pod), sums[k].cpu, ts)
	}
	m.family("pod_memory_working_set_bytes", "gauge", "Current working set of the pod in bytes")
	for _, k := range order {
		m.sample(fmt.Sprintf("namespace=%q,pod=%q", k.ns, k.pod), float64(sums[k].mem), ts)
	}
}

package main

import (
	"bytes"
	"context"
	"log"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/cri-client/pkg/logs"
)

// runHook runs a postStart or preStop handler (exec, httpGet or sleep); false: it failed.
func (c *container) runHook(ctx context.Context, inst *instance, h *v1.LifecycleHandler) bool {
	switch {
	case h.Exec != nil:
		return c.execProbe(ctx, inst, h.Exec.Command)
	case h.HTTPGet != nil:
		return c.httpProbe(ctx, h.HTTPGet)
	case h.TCPSocket != nil:
		return c.tcpProbe(ctx, h.TCPSocket)
	case h.Sleep != nil:
		sleepCtx(ctx, time.Duration(h.Sleep.Seconds)*time.Second)
	}
	return true
}

// postStart runs the postStart hook; a failure kills the container, as the kubelet does.
func (c *container) postStart(ctx context.Context, inst *instance) {
	lc := c.spec.Lifecycle
	if lc == nil || lc.PostStart == nil {
		return
	}
	if !c.runHook(ctx, inst, lc.PostStart) {
		log.Printf("%s: postStart hook failed, killing the container", c.describe())
		go inst.stop(2 * time.Second)
	}
}

// stopWithHooks runs the preStop hook within the grace period, then stops the process with what
// remains of it (at least 2 s, as the kubelet grants after a slow hook).
func (c *container) stopWithHooks(inst *instance, grace time.Duration) {
	if inst == nil {
		return
	}
	start := time.Now()
	if lc := c.spec.Lifecycle; lc != nil && lc.PreStop != nil {
		ctx, cancel := context.WithTimeout(context.Background(), grace)
		c.runHook(ctx, inst, lc.PreStop)
		cancel()
	}
	inst.stop(max(grace-time.Since(start), 2*time.Second))
}

// terminationMessage is what the kubelet reports for terminationMessagePolicy
// FallbackToLogsOnError: the end of a failed container's log (80 lines, 2 KiB at most).
func (c *container) terminationMessage(t *v1.ContainerStateTerminated, logPath string) {
	if t.ExitCode == 0 || c.spec.TerminationMessagePolicy != v1.TerminationMessageFallbackToLogsOnError {
		return
	}
	var buf bytes.Buffer
	tail := int64(80)
	opts := &logs.LogOptions{TailLines: &tail}
	if err := logs.ReadLogs(context.Background(), logPath, "", opts, nil, &buf, &buf); err != nil {
		return
	}
	msg := buf.Bytes()
	if len(msg) > 2048 {
		msg = msg[len(msg)-2048:]
	}
	t.Message = string(msg)
}

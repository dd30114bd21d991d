package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// container is one container of a pod: its current process (instance) and its reported state.
type container struct {
	pod     *podWorker
	spec    v1.Container
	init    bool
	sidecar bool // a restartable init container (restartPolicy Always)
	// ephemeral: an ephemeral container (kubectl debug), run once
	ephemeral bool

	mu       sync.Mutex
	id       string
	restarts int32
	state    v1.ContainerState
	last     v1.ContainerState
	ready    bool
	started  bool
	inst     *instance
}

// instance is one run of a container: a process in its own process group.
type instance struct {
	id         string
	listenAddr string // the first address of a built-in HTTP server
	logPath    string
	cmd        *exec.Cmd
	env        []string
	dir        string
	stdin      io.WriteCloser
	tty        *os.File
	stdout     *fanout
	stderr     *fanout
	done       chan struct{}
	start      time.Time
	pipes      sync.WaitGroup
}

func newContainerID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *container) snapshot() (v1.ContainerState, v1.ContainerState, bool, bool, string, int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state, c.last, c.ready, c.started, c.id, c.restarts
}

func (c *container) current() *instance {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inst
}

func (c *container) setWaiting(reason, msg string) {
	c.mu.Lock()
	c.state = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: reason, Message: msg}}
	c.ready = false
	c.mu.Unlock()
	c.pod.wake()
}

func (c *container) logDir() string { return filepath.Join(c.pod.dir, c.spec.Name) }

func (c *container) logPath(restarts int32) string {
	return filepath.Join(c.logDir(), strconv.Itoa(int(restarts))+".log")
}

// workingDir is spec.workingDir when it exists on this host, else the pod folder.
func (c *container) workingDir() string {
	if d := c.spec.WorkingDir; d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	return c.pod.dir
}

// prepare resolves the environment and command line of the next run.
func (c *container) prepare(ctx context.Context) (*instance, []string, error) {
	env, err := c.pod.containerEnv(ctx, &c.spec)
	if err != nil {
		return nil, nil, err
	}
	argv, err := c.pod.a.argvFor(&c.spec, c.pod.ip, expandAll(c.spec.Command, env), expandAll(c.spec.Args, env))
	if err != nil {
		return nil, nil, err
	}
	inst := &instance{id: newContainerID(), env: env.list(), dir: c.workingDir(), done: make(chan struct{})}
	if len(argv) > 2 && argv[0] == c.pod.a.self && argv[1] == "serve-http" {
		inst.listenAddr = strings.TrimPrefix(argv[2], "--listen=")
	}
	return inst, argv, nil
}

// run runs the container once and returns when its process has exited (nil: it never started).
func (c *container) run(ctx context.Context) *v1.ContainerStateTerminated {
	inst, argv, err := c.prepare(ctx)
	if err != nil {
		c.setWaiting("CreateContainerError", err.Error())
		return nil
	}
	c.mu.Lock()
	if c.id != "" {
		c.restarts++
	}
	restarts := c.restarts
	c.mu.Unlock()
	if err := os.MkdirAll(c.logDir(), 0o755); err != nil {
		c.setWaiting("CreateContainerError", err.Error())
		return nil
	}
	inst.logPath = c.logPath(restarts)
	logf, err := openCRILog(inst.logPath)
	if err != nil {
		c.setWaiting("CreateContainerError", err.Error())
		return nil
	}
	defer logf.Close()
	if err := inst.startProcess(argv, c.spec.Stdin, c.spec.TTY, logf); err != nil {
		c.mu.Lock()
		c.id = inst.id
		c.mu.Unlock()
		return c.failedStart(err)
	}
	c.running(inst)
	if ctx.Err() != nil {
		go inst.stop(2 * time.Second) // the pod stopped while this run was starting
	}
	c.postStart(ctx, inst)
	return c.wait(ctx, inst)
}

func (c *container) failedStart(err error) *v1.ContainerStateTerminated {
	now := metav1.Now()
	t := &v1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: err.Error(), StartedAt: now, FinishedAt: now, ContainerID: "kuber://" + c.id}
	c.terminated(t)
	return t
}

func (c *container) running(inst *instance) {
	c.pod.a.setContainerID(inst.id, c)
	c.mu.Lock()
	c.id = inst.id
	c.inst = inst
	c.state = v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: metav1.NewTime(inst.start)}}
	c.started = c.spec.StartupProbe == nil
	c.ready = false
	c.mu.Unlock()
	c.pod.wake()
}

// wait waits for the instance's process, running its probes meanwhile.
func (c *container) wait(ctx context.Context, inst *instance) *v1.ContainerStateTerminated {
	pctx, stop := context.WithCancel(ctx)
	go c.probe(pctx, inst)
	err := inst.cmd.Wait()
	stop()
	close(inst.done)
	inst.waitPipes(time.Second)
	t := exitState(inst, err)
	c.terminationMessage(t, inst.logPath)
	c.terminated(t)
	return t
}

func exitState(inst *instance, err error) *v1.ContainerStateTerminated {
	t := &v1.ContainerStateTerminated{StartedAt: metav1.NewTime(inst.start), FinishedAt: metav1.Now(), ContainerID: "kuber://" + inst.id, Reason: "Completed"}
	ps := inst.cmd.ProcessState
	if ps == nil {
		t.ExitCode, t.Reason, t.Message = 128, "Error", fmt.Sprint(err)
		return t
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Signal = int32(ws.Signal())
		t.ExitCode = 128 + t.Signal
	} else {
		t.ExitCode = int32(ps.ExitCode())
	}
	if t.ExitCode != 0 {
		t.Reason = "Error"
	}
	return t
}

func (c *container) terminated(t *v1.ContainerStateTerminated) {
	c.mu.Lock()
	c.state = v1.ContainerState{Terminated: t}
	c.ready = false
	c.inst = nil
	c.mu.Unlock()
	c.pod.a.setContainerID(trimID(t.ContainerID), nil)
	c.pod.wake()
}

// startProcess starts argv in its own process group, output to the CRI log and attach fan-out.
func (inst *instance) startProcess(argv []string, stdin, tty bool, logf *criLog) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir = inst.env, inst.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	inst.cmd = cmd
	inst.stdout, inst.stderr = newFanout(), newFanout()
	if tty {
		return inst.startTTY(logf)
	}
	return inst.startPipes(stdin, logf)
}

func (inst *instance) startTTY(logf *criLog) error {
	inst.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	ptmx, err := pty.Start(inst.cmd)
	if err != nil {
		return err
	}
	inst.start = time.Now()
	inst.tty, inst.stdin = ptmx, ptmx
	inst.pipes.Add(1)
	go pump(io.NopCloser(ptmx), &lineSplitter{log: logf, stream: "stdout"}, inst.stdout, inst.pipes.Done)
	return nil
}

func (inst *instance) startPipes(stdin bool, logf *criLog) error {
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return err
	}
	inst.cmd.Stdout, inst.cmd.Stderr = outW, errW
	var inR *os.File
	if stdin {
		if inR, inst.stdin, err = os.Pipe(); err != nil {
			return err
		}
		inst.cmd.Stdin = inR
	}
	err = inst.cmd.Start()
	closeAll(outW, errW, inR)
	if err != nil {
		closeAll(outR, errR, inst.stdin)
		return err
	}
	inst.start = time.Now()
	inst.pipes.Add(2)
	go pump(outR, &lineSplitter{log: logf, stream: "stdout"}, inst.stdout, inst.pipes.Done)
	go pump(errR, &lineSplitter{log: logf, stream: "stderr"}, inst.stderr, inst.pipes.Done)
	return nil
}

func closeAll(closers ...io.Closer) {
	for _, c := range closers {
		if f, ok := c.(*os.File); ok && f == nil {
			continue
		}
		if c != nil {
			_ = c.Close()
		}
	}
}

// waitPipes waits for the output to drain, at most d (children may keep the pipes open).
func (inst *instance) waitPipes(d time.Duration) {
	drained := make(chan struct{})
	go func() {
		inst.pipes.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(d):
	}
}

// stop sends SIGTERM to the instance's process group and SIGKILL after grace.
func (inst *instance) stop(grace time.Duration) {
	if inst == nil || inst.cmd.Process == nil {
		return
	}
	pid := inst.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-inst.done:
	case <-time.After(grace):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-inst.done
	}
	if inst.stdin != nil {
		_ = inst.stdin.Close()
	}
	// Children left in the group after the main process exited go too.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

func (c *container) describe() string {
	return fmt.Sprintf("%s/%s/%s", c.pod.namespace, c.pod.name, c.spec.Name)
}

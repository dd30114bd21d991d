package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	remotecommandserver "k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// criRuntime is the streaming.Runtime behind exec, attach and port-forward: containers are
// local processes, a pod's network is its loopback IP.
type criRuntime struct{ a *agent }

func (rt *criRuntime) instance(containerID string) (*container, *instance, error) {
	c := rt.a.containerByID(containerID)
	if c == nil {
		return nil, nil, fmt.Errorf("container %q not found", containerID)
	}
	inst := c.current()
	if inst == nil || inst.id != containerID {
		return nil, nil, fmt.Errorf("container %q is not running", containerID)
	}
	return c, inst, nil
}

// Exec runs cmd as a local process in the container's environment and folder.
func (rt *criRuntime) Exec(ctx context.Context, containerID string, cmd []string, in io.Reader, out, stderr io.WriteCloser, tty bool, resize <-chan remotecommandserver.TerminalSize) error {
	_, inst, err := rt.instance(containerID)
	if err != nil {
		return err
	}
	if len(cmd) == 0 {
		return errors.New("no command")
	}
	p := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	p.Env, p.Dir = inst.env, inst.dir
	if tty {
		return exitError(execTTY(p, in, out, resize))
	}
	return exitError(execPipes(p, in, out, stderr))
}

func execPipes(p *exec.Cmd, in io.Reader, out, stderr io.WriteCloser) error {
	p.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.WaitDelay = 2 * time.Second
	if out != nil {
		p.Stdout = out
	}
	if stderr != nil {
		p.Stderr = stderr
	}
	var stdin io.WriteCloser
	if in != nil {
		var err error
		if stdin, err = p.StdinPipe(); err != nil {
			return err
		}
	}
	if err := p.Start(); err != nil {
		return err
	}
	if stdin != nil {
		go func() {
			_, _ = io.Copy(stdin, in)
			_ = stdin.Close()
		}()
	}
	return p.Wait()
}

func execTTY(p *exec.Cmd, in io.Reader, out io.WriteCloser, resize <-chan remotecommandserver.TerminalSize) error {
	ptmx, err := pty.StartWithSize(p, firstSize(resize))
	if err != nil {
		return err
	}
	defer ptmx.Close()
	go applyResizes(ptmx, resize)
	if in != nil {
		go func() { _, _ = io.Copy(ptmx, in) }()
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		if out != nil {
			_, _ = io.Copy(out, ptmx)
		}
	}()
	err = p.Wait()
	select {
	case <-copied:
	case <-time.After(time.Second):
	}
	return err
}

// firstSize waits briefly for the client's terminal size, so the command starts with it.
func firstSize(resize <-chan remotecommandserver.TerminalSize) *pty.Winsize {
	if resize == nil {
		return nil
	}
	select {
	case size, ok := <-resize:
		if ok {
			return &pty.Winsize{Rows: size.Height, Cols: size.Width}
		}
	case <-time.After(500 * time.Millisecond):
	}
	return nil
}

func applyResizes(f *os.File, resize <-chan remotecommandserver.TerminalSize) {
	for size := range resize {
		_ = pty.Setsize(f, &pty.Winsize{Rows: size.Height, Cols: size.Width})
	}
}

// exitError turns a non-zero exit into the error the streaming server reports as an exit code.
func exitError(err error) error {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	code := ee.ExitCode()
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	return utilexec.CodeExitError{Err: err, Code: code}
}

// Attach connects to the running process: its stdin (when the container has stdin: true) and
// its live output.
func (rt *criRuntime) Attach(ctx context.Context, containerID string, in io.Reader, out, stderr io.WriteCloser, tty bool, resize <-chan remotecommandserver.TerminalSize) error {
	c, inst, err := rt.instance(containerID)
	if err != nil {
		return err
	}
	var failed []<-chan struct{}
	for _, sub := range []struct {
		w io.Writer
		f *fanout
	}{{out, inst.stdout}, {stderr, inst.stderr}} {
		if sub.w != nil {
			id, fail := sub.f.subscribe(sub.w)
			defer sub.f.unsubscribe(id)
			failed = append(failed, fail)
		}
	}
	if inst.tty != nil && resize != nil {
		go applyResizes(inst.tty, resize)
	}
	if in != nil && inst.stdin != nil {
		go copyStdin(inst, in, c.spec.StdinOnce)
	}
	return waitAttach(ctx, inst, failed)
}

// copyStdin feeds the container's stdin; with stdinOnce the end of the client's input closes it.
func copyStdin(inst *instance, in io.Reader, once bool) {
	_, _ = io.Copy(inst.stdin, in)
	if once {
		_ = inst.stdin.Close()
	}
}

// waitAttach returns when the container exits, the client goes away or ctx ends.
func waitAttach(ctx context.Context, inst *instance, failed []<-chan struct{}) error {
	anyFailed := make(chan struct{})
	var o sync.Once
	for _, f := range failed {
		go func() {
			select {
			case <-f:
				o.Do(func() { close(anyFailed) })
			case <-inst.done:
			}
		}()
	}
	select {
	case <-ctx.Done():
	case <-inst.done:
		inst.waitPipes(time.Second)
	case <-anyFailed:
	}
	return nil
}

// PortForward dials podIP:port and copies both ways.
func (rt *criRuntime) PortForward(ctx context.Context, podSandboxID string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	pw := rt.a.workerByUID(podSandboxID)
	if pw == nil || pw.ip == "" {
		return fmt.Errorf("pod sandbox %q not found", podSandboxID)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(pw.ip, strconv.Itoa(int(port))))
	if err != nil {
		return err
	}
	defer conn.Close()
	done := make(chan struct{})
	go func() { _, _ = io.Copy(conn, stream); closeWrite(conn) }()
	go func() { _, _ = io.Copy(stream, conn); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

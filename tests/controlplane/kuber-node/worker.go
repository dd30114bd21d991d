package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	initialBackoff = 10 * time.Second
	maxBackoff     = 5 * time.Minute
)

// podWorker runs one pod: its folder, IP, containers, and status reports.
type podWorker struct {
	a         *agent
	uid       string
	namespace string
	name      string
	dir       string
	ip        string

	mu          sync.Mutex
	pod         *v1.Pod
	inits       []*container
	ctrs        []*container
	ephs        []*container // ephemeral containers (kubectl debug), added while the pod runs
	initDone    bool
	initFailed  bool
	startTime   *metav1.Time
	terminating bool

	ctx      context.Context // cancelled when the pod stops: no more (re)starts
	cancel   context.CancelFunc
	sideCtx  context.Context // the sidecars' (restartable init containers'), cancelled after the rest
	sideStop context.CancelFunc
	sidecars sync.WaitGroup
	wakeCh   chan struct{}
	stopped  chan struct{} // closed when no process of the pod can start any more
	gone     chan struct{} // closed when the pod is removed from this node
}

func newPodWorker(a *agent, pod *v1.Pod) *podWorker {
	w := &podWorker{
		a: a, uid: string(pod.UID), namespace: pod.Namespace, name: pod.Name, pod: pod,
		dir:     filepath.Join(a.cfg.rootDir, "pods", string(pod.UID)),
		wakeCh:  make(chan struct{}, 1),
		stopped: make(chan struct{}),
		gone:    make(chan struct{}),
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.sideCtx, w.sideStop = context.WithCancel(w.ctx)
	for _, s := range pod.Spec.InitContainers {
		sidecar := s.RestartPolicy != nil && *s.RestartPolicy == v1.ContainerRestartPolicyAlways
		w.inits = append(w.inits, &container{pod: w, spec: s, init: true, sidecar: sidecar})
	}
	for _, s := range pod.Spec.Containers {
		w.ctrs = append(w.ctrs, &container{pod: w, spec: s})
	}
	for _, c := range w.all() {
		c.state = initialState(c, len(w.inits) > 0)
	}
	return w
}

func initialState(c *container, hasInits bool) v1.ContainerState {
	reason := "ContainerCreating"
	if hasInits {
		reason = "PodInitializing"
	}
	return v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: reason}}
}

func (w *podWorker) all() []*container {
	return append(append(append([]*container{}, w.inits...), w.ctrs...), w.ephemeral()...)
}

func (w *podWorker) ephemeral() []*container {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*container{}, w.ephs...)
}

func (w *podWorker) currentPod() *v1.Pod {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod
}

func (w *podWorker) setPod(pod *v1.Pod) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pod = pod
}

func (w *podWorker) wake() {
	select {
	case w.wakeCh <- struct{}{}:
	default:
	}
}

func (w *podWorker) container(name string) *container {
	for _, c := range w.all() {
		if c.spec.Name == name {
			return c
		}
	}
	return nil
}

// start sets up the pod's sandbox (folder and IP) and runs its containers.
func (w *podWorker) start() {
	go w.statusLoop()
	if isTerminal(w.pod.Status.Phase) {
		close(w.stopped)
		return
	}
	go w.run()
}

func isTerminal(p v1.PodPhase) bool { return p == v1.PodSucceeded || p == v1.PodFailed }

func (w *podWorker) run() {
	defer close(w.stopped)
	if err := w.sandbox(); err != nil {
		log.Printf("pod %s/%s: %v", w.namespace, w.name, err)
		return
	}
	if !w.runInits() {
		return
	}
	var wg sync.WaitGroup
	for _, c := range w.ctrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.supervise(w.ctx)
		}()
	}
	wg.Wait()
	w.stopSidecars()
}

// startSidecar starts a restartable init container and waits until it has started.
func (w *podWorker) startSidecar(c *container) bool {
	w.sidecars.Add(1)
	go func() {
		defer w.sidecars.Done()
		c.supervise(w.sideCtx)
	}()
	for w.ctx.Err() == nil {
		if c.current() != nil && c.isStarted() {
			return true
		}
		sleepCtx(w.ctx, 100*time.Millisecond)
	}
	return false
}

// stopSidecars stops the sidecars once the regular containers are done.
func (w *podWorker) stopSidecars() {
	w.sideStop()
	for _, c := range w.inits {
		if c.sidecar {
			c.current().stop(2 * time.Second)
		}
	}
	w.sidecars.Wait()
}

func (w *podWorker) sandbox() error {
	if err := os.MkdirAll(w.dir, 0o755); err != nil {
		return err
	}
	ip := "127.0.0.1" // hostNetwork: the node's address
	if !w.pod.Spec.HostNetwork {
		var err error
		if ip, err = w.a.ips.allocate(); err != nil {
			return err
		}
	}
	now := metav1.Now()
	w.mu.Lock()
	w.ip, w.startTime = ip, &now
	w.mu.Unlock()
	w.wake()
	return nil
}

// runInits runs the init containers in order, each to success; false: the pod cannot go on.
func (w *podWorker) runInits() bool {
	for _, c := range w.inits {
		if c.sidecar {
			if !w.startSidecar(c) {
				return false
			}
			continue
		}
		if !c.runToSuccess(w.ctx) {
			return false
		}
	}
	w.mu.Lock()
	w.initDone = true
	w.mu.Unlock()
	for _, c := range w.ctrs {
		c.setWaiting("ContainerCreating", "")
	}
	return true
}

// runToSuccess runs an init container until it exits 0, restarting unless restartPolicy Never.
func (c *container) runToSuccess(ctx context.Context) bool {
	b := newBackoff()
	for ctx.Err() == nil {
		t := c.run(ctx)
		if t != nil && t.ExitCode == 0 {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if t != nil && c.pod.currentPod().Spec.RestartPolicy == v1.RestartPolicyNever {
			c.pod.markInitFailed()
			return false
		}
		if !c.backOff(ctx, b, t) {
			return false
		}
	}
	return false
}

func (w *podWorker) markInitFailed() {
	w.mu.Lock()
	w.initFailed = true
	w.mu.Unlock()
	w.wake()
}

// supervise runs a container and restarts it as its pod's restartPolicy says.
func (c *container) supervise(ctx context.Context) {
	b := newBackoff()
	for ctx.Err() == nil {
		t := c.run(ctx)
		if ctx.Err() != nil || !c.shouldRestart(t) {
			return
		}
		if !c.backOff(ctx, b, t) {
			return
		}
	}
}

func (c *container) shouldRestart(t *v1.ContainerStateTerminated) bool {
	if t == nil || c.sidecar {
		return true // never started (CreateContainerError): retry; sidecars always restart
	}
	switch c.pod.currentPod().Spec.RestartPolicy {
	case v1.RestartPolicyNever:
		return false
	case v1.RestartPolicyOnFailure:
		return t.ExitCode != 0
	}
	return true
}

// backoff is the kubelet's restart delay: the first restart is immediate, then 10 s doubling
// to 5 min; it resets after a run of 10 min.
type backoff struct {
	next time.Duration
	last time.Time
}

func newBackoff() *backoff { return &backoff{} }

func (b *backoff) delay(t *v1.ContainerStateTerminated) time.Duration {
	if t != nil && t.FinishedAt.Sub(t.StartedAt.Time) > 2*maxBackoff {
		b.next = 0
	}
	d := b.next
	b.next = min(max(2*b.next, initialBackoff), maxBackoff)
	return d
}

// backOff waits before a restart, reporting CrashLoopBackOff; false if the pod stopped meanwhile.
func (c *container) backOff(ctx context.Context, b *backoff, t *v1.ContainerStateTerminated) bool {
	d := b.delay(t)
	if t != nil {
		c.mu.Lock()
		c.last = v1.ContainerState{Terminated: t}
		c.mu.Unlock()
		if d > 0 {
			c.setWaiting("CrashLoopBackOff", fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", d, c.spec.Name, c.pod.name, c.pod.namespace, c.pod.uid))
		}
	}
	if d == 0 && t == nil {
		d = initialBackoff
	}
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// stopAll stops the pod: no more restarts, SIGTERM to every process group, SIGKILL after grace.
func (w *podWorker) stopAll(graceSeconds int64) {
	w.cancel()
	grace := time.Duration(max(graceSeconds, 1)) * time.Second
	var wg sync.WaitGroup
	for _, c := range w.all() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.stopWithHooks(c.current(), grace)
		}()
	}
	wg.Wait()
	select {
	case <-w.stopped:
	case <-time.After(grace + 2*time.Second):
	}
}

package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

type probeKind int

const (
	startupProbe probeKind = iota
	readinessProbe
	livenessProbe
)

// probe runs the container's probes for one instance, as the kubelet's prober does.
func (c *container) probe(ctx context.Context, inst *instance) {
	if p := c.spec.StartupProbe; p != nil {
		go c.probeLoop(ctx, inst, p, startupProbe)
	}
	if p := c.spec.LivenessProbe; p != nil {
		go c.probeLoop(ctx, inst, p, livenessProbe)
	}
	if p := c.spec.ReadinessProbe; p != nil {
		go c.probeLoop(ctx, inst, p, readinessProbe)
		return
	}
	if inst.listenAddr != "" {
		go c.readyWhenListening(ctx, inst.listenAddr)
		return
	}
	c.setReady(true)
}

// readyWhenListening marks a built-in server ready once it accepts connections (at most 5 s),
// as a real nginx is by the time its status is read.
func (c *container) readyWhenListening(ctx context.Context, addr string) {
	for i := 0; i < 100 && ctx.Err() == nil; i++ {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = conn.Close()
			break
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
	c.setReady(true)
}

func (c *container) setReady(ready bool) {
	c.mu.Lock()
	changed := c.ready != ready && c.state.Running != nil && c.started
	if changed {
		c.ready = ready
	}
	c.mu.Unlock()
	if changed {
		c.pod.wake()
	}
}

func (c *container) isStarted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started
}

func (c *container) setStarted() {
	c.mu.Lock()
	c.started = true
	c.mu.Unlock()
	if c.spec.ReadinessProbe == nil {
		c.setReady(true)
	}
	c.pod.wake()
}

// probeLoop probes every periodSeconds after initialDelaySeconds and acts on the thresholds.
func (c *container) probeLoop(ctx context.Context, inst *instance, p *v1.Probe, kind probeKind) {
	period := seconds(p.PeriodSeconds, 10)
	if !sleepCtx(ctx, time.Duration(p.InitialDelaySeconds)*time.Second) {
		return
	}
	var successes, failures int32
	for {
		if kind == startupProbe || c.isStarted() {
			ok := c.runProbe(ctx, inst, p)
			successes, failures = count(ok, successes, failures)
			if !c.onProbe(kind, p, successes, failures, inst) {
				return
			}
		}
		if !sleepCtx(ctx, period) {
			return
		}
	}
}

func count(ok bool, successes, failures int32) (int32, int32) {
	if ok {
		return successes + 1, 0
	}
	return 0, failures + 1
}

// onProbe applies a probe result; false stops the loop.
func (c *container) onProbe(kind probeKind, p *v1.Probe, successes, failures int32, inst *instance) bool {
	success := successes >= max(p.SuccessThreshold, 1)
	failure := failures >= thresholdOr(p.FailureThreshold, 3)
	switch kind {
	case startupProbe:
		if success {
			c.setStarted()
			return false
		}
		if failure {
			go inst.stop(terminationGrace(c.pod.currentPod()))
			return false
		}
	case readinessProbe:
		if success {
			c.setReady(true)
		} else if failure {
			c.setReady(false)
		}
	case livenessProbe:
		if failure {
			go inst.stop(terminationGrace(c.pod.currentPod()))
			return false
		}
	}
	return true
}

func thresholdOr(v, def int32) int32 {
	if v <= 0 {
		return def
	}
	return v
}

func seconds(v, def int32) time.Duration {
	if v <= 0 {
		v = def
	}
	return time.Duration(v) * time.Second
}

func terminationGrace(pod *v1.Pod) time.Duration {
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(max(*g, 1)) * time.Second
	}
	return 30 * time.Second
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// runProbe runs one exec, tcpSocket or httpGet check; gRPC probes are not supported (pass).
func (c *container) runProbe(ctx context.Context, inst *instance, p *v1.Probe) bool {
	ctx, cancel := context.WithTimeout(ctx, seconds(p.TimeoutSeconds, 1))
	defer cancel()
	switch {
	case p.Exec != nil:
		return c.execProbe(ctx, inst, p.Exec.Command)
	case p.TCPSocket != nil:
		return c.tcpProbe(ctx, p.TCPSocket)
	case p.HTTPGet != nil:
		return c.httpProbe(ctx, p.HTTPGet)
	}
	return true
}

func (c *container) execProbe(ctx context.Context, inst *instance, command []string) bool {
	if len(command) == 0 {
		return false
	}
	cmd := exec.CommandContext(ctx, command[0], command[1:]...)
	cmd.Env, cmd.Dir = inst.env, inst.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.Run() == nil
}

func (c *container) tcpProbe(ctx context.Context, a *v1.TCPSocketAction) bool {
	addr, err := c.probeTarget(a.Host, a.Port)
	if err != nil {
		return false
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

// HTTPS probes do not verify the certificate, as the kubelet's do not.
var probeClient = &http.Client{
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

func (c *container) httpProbe(ctx context.Context, a *v1.HTTPGetAction) bool {
	addr, err := c.probeTarget(a.Host, a.Port)
	if err != nil {
		return false
	}
	scheme := "http"
	if a.Scheme == v1.URISchemeHTTPS {
		scheme = "https"
	}
	u := fmt.Sprintf("%s://%s%s", scheme, addr, a.Path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false
	}
	for _, h := range a.HTTPHeaders {
		req.Header.Add(h.Name, h.Value)
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}

// probeTarget is host:port of a tcpSocket or httpGet probe: the pod's IP unless the probe names a host.
func (c *container) probeTarget(host string, p intstr.IntOrString) (string, error) {
	port, err := c.resolvePort(p)
	if err != nil {
		return "", err
	}
	if host == "" {
		host = c.pod.ip
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// resolvePort is a probe's port number, a name looked up in the container's ports.
func (c *container) resolvePort(p intstr.IntOrString) (int, error) {
	if p.Type == intstr.Int {
		return p.IntValue(), nil
	}
	for _, cp := range c.spec.Ports {
		if cp.Name == p.StrVal {
			return int(cp.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("no port named %q", p.StrVal)
}

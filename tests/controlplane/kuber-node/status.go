package main

import (
	"context"
	"fmt"
	"log"
	"sort"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// statusLoop writes the pod's status whenever it changes, at most every 200 ms.
func (w *podWorker) statusLoop() {
	var last *v1.PodStatus
	for {
		select {
		case <-w.gone:
			return
		case <-w.wakeCh:
		}
		time.Sleep(200 * time.Millisecond)
		last = w.syncStatus(last)
	}
}

// syncStatus writes the status if it differs from last and returns what is now reported.
func (w *podWorker) syncStatus(last *v1.PodStatus) *v1.PodStatus {
	pod := w.currentPod()
	st := w.buildStatus(&pod.Status)
	if last != nil && apiequality.Semantic.DeepEqual(*last, st) {
		return last
	}
	if err := w.writeStatus(pod, st); err != nil {
		if !apierrors.IsNotFound(err) {
			log.Printf("status of pod %s/%s: %v", w.namespace, w.name, err)
		}
		w.retryLater()
		return last
	}
	return &st
}

func (w *podWorker) retryLater() {
	go func() {
		select {
		case <-w.gone:
		case <-time.After(time.Second):
			w.wake()
		}
	}()
}

// writeStatus updates pods/status, re-reading the pod once on a conflict.
func (w *podWorker) writeStatus(pod *v1.Pod, st v1.PodStatus) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods := w.a.client.CoreV1().Pods(w.namespace)
	p := pod.DeepCopy()
	p.Status = st
	_, err := pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
	if !apierrors.IsConflict(err) {
		return err
	}
	fresh, err := pods.Get(ctx, w.name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if fresh.UID != pod.UID {
		return apierrors.NewNotFound(v1.Resource("pods"), w.name)
	}
	w.setPod(fresh)
	fresh = fresh.DeepCopy()
	fresh.Status = w.buildStatus(&fresh.Status)
	_, err = pods.UpdateStatus(ctx, fresh, metav1.UpdateOptions{})
	return err
}

// buildStatus is the pod status the kubelet would report, on top of the stored one.
func (w *podWorker) buildStatus(old *v1.PodStatus) v1.PodStatus {
	st := *old.DeepCopy()
	w.mu.Lock()
	ip, start, initDone, initFailed := w.ip, w.startTime, w.initDone, w.initFailed
	w.mu.Unlock()
	st.HostIP = "127.0.0.1"
	st.HostIPs = []v1.HostIP{{IP: "127.0.0.1"}}
	if ip != "" {
		st.PodIP = ip
		st.PodIPs = []v1.PodIP{{IP: ip}}
	}
	if start != nil && st.StartTime == nil {
		st.StartTime = start
	}
	st.InitContainerStatuses = statuses(w.inits)
	st.ContainerStatuses = statuses(w.ctrs)
	if eph := w.ephemeral(); len(eph) > 0 {
		st.EphemeralContainerStatuses = statuses(eph)
	}
	if !isTerminal(old.Phase) {
		st.Phase = w.phase(initDone, initFailed, st.ContainerStatuses)
	}
	st.Conditions = w.conditions(old.Conditions, &st, ip != "", initDone)
	return st
}

func statuses(cs []*container) []v1.ContainerStatus {
	out := make([]v1.ContainerStatus, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.status())
	}
	return out
}

func (c *container) status() v1.ContainerStatus {
	state, last, ready, started, id, restarts := c.snapshot()
	started = started && state.Running != nil
	s := v1.ContainerStatus{
		Name: c.spec.Name, Image: c.spec.Image, ImageID: "kuber://image/" + imageBase(c.spec.Image),
		State: state, LastTerminationState: last, Ready: ready, RestartCount: restarts,
		Started: &started,
	}
	if id != "" {
		s.ContainerID = "kuber://" + id
	}
	return s
}

// phase follows the kubelet: Pending until every container has started, Running while any runs
// or will be restarted, then Succeeded or Failed.
func (w *podWorker) phase(initDone, initFailed bool, cs []v1.ContainerStatus) v1.PodPhase {
	if initFailed {
		return v1.PodFailed
	}
	if !initDone {
		return v1.PodPending
	}
	var running, waiting, failed int
	for _, s := range cs {
		switch {
		case s.State.Running != nil:
			running++
		case s.State.Terminated != nil && s.State.Terminated.ExitCode != 0:
			failed++
		case s.State.Terminated != nil:
		case s.LastTerminationState.Terminated != nil && w.isTerminating():
			failed++
		case s.LastTerminationState.Terminated != nil:
			running++ // waiting to be restarted
		default:
			waiting++
		}
	}
	switch {
	case waiting > 0:
		return v1.PodPending
	case running > 0:
		return v1.PodRunning
	case w.currentPod().Spec.RestartPolicy == v1.RestartPolicyAlways && !w.isTerminating():
		return v1.PodRunning
	case failed > 0:
		return v1.PodFailed
	}
	return v1.PodSucceeded
}

// conditions sets the kubelet's pod conditions, keeping transition times that did not change.
func (w *podWorker) conditions(old []v1.PodCondition, st *v1.PodStatus, sandbox, initDone bool) []v1.PodCondition {
	now := metav1.Now()
	unready := notReady(st.ContainerStatuses)
	gates := unmetGates(w.currentPod(), old)
	set := map[v1.PodConditionType]v1.PodCondition{
		v1.PodReadyToStartContainers: boolCondition(v1.PodReadyToStartContainers, sandbox, "", ""),
		v1.PodInitialized:            boolCondition(v1.PodInitialized, initDone, "ContainersNotInitialized", listMessage("containers with incomplete status", incomplete(st.InitContainerStatuses))),
		v1.ContainersReady:           boolCondition(v1.ContainersReady, len(unready) == 0, "ContainersNotReady", listMessage("containers with unready status", unready)),
		v1.PodReady:                  boolCondition(v1.PodReady, len(unready) == 0, "ContainersNotReady", listMessage("containers with unready status", unready)),
	}
	if len(unready) == 0 && len(gates) > 0 {
		set[v1.PodReady] = boolCondition(v1.PodReady, false, "ReadinessGatesNotReady", listMessage("corresponding condition of pod readiness gate", gates))
	}
	if isTerminal(st.Phase) {
		set[v1.ContainersReady] = boolCondition(v1.ContainersReady, false, "PodCompleted", "")
		set[v1.PodReady] = boolCondition(v1.PodReady, false, "PodCompleted", "")
	}
	if initDone && len(w.inits) > 0 {
		set[v1.PodInitialized] = boolCondition(v1.PodInitialized, true, "", "")
	}
	return mergeConditions(old, set, now)
}

// unmetGates lists the pod's readiness gates whose condition is not True.
func unmetGates(pod *v1.Pod, conds []v1.PodCondition) []string {
	var out []string
	for _, g := range pod.Spec.ReadinessGates {
		if c, ok := findCondition(conds, g.ConditionType); !ok || c.Status != v1.ConditionTrue {
			out = append(out, fmt.Sprintf("%q", g.ConditionType))
		}
	}
	return out
}

func boolCondition(t v1.PodConditionType, ok bool, reason, msg string) v1.PodCondition {
	if ok {
		return v1.PodCondition{Type: t, Status: v1.ConditionTrue}
	}
	return v1.PodCondition{Type: t, Status: v1.ConditionFalse, Reason: reason, Message: msg}
}

func notReady(cs []v1.ContainerStatus) []string {
	var out []string
	for _, s := range cs {
		if !s.Ready {
			out = append(out, s.Name)
		}
	}
	sort.Strings(out)
	return out
}

// incomplete lists the init containers that have not succeeded.
func incomplete(cs []v1.ContainerStatus) []string {
	var out []string
	for _, s := range cs {
		if s.State.Terminated == nil || s.State.Terminated.ExitCode != 0 {
			out = append(out, s.Name)
		}
	}
	return out
}

func listMessage(prefix string, names []string) string {
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: [%s]", prefix, strings.Join(names, " "))
}

func mergeConditions(old []v1.PodCondition, set map[v1.PodConditionType]v1.PodCondition, now metav1.Time) []v1.PodCondition {
	var out []v1.PodCondition
	seen := map[v1.PodConditionType]bool{}
	for _, o := range old {
		n, ok := set[o.Type]
		if !ok {
			out = append(out, o)
			continue
		}
		seen[o.Type] = true
		n.LastTransitionTime = o.LastTransitionTime
		if o.Status != n.Status {
			n.LastTransitionTime = now
		}
		n.LastProbeTime = o.LastProbeTime
		out = append(out, n)
	}
	for _, t := range []v1.PodConditionType{v1.PodReadyToStartContainers, v1.PodInitialized, v1.ContainersReady, v1.PodReady} {
		if !seen[t] {
			n := set[t]
			n.LastTransitionTime = now
			out = append(out, n)
		}
	}
	if _, ok := findCondition(out, v1.PodScheduled); !ok {
		out = append(out, v1.PodCondition{Type: v1.PodScheduled, Status: v1.ConditionTrue, LastTransitionTime: now})
	}
	return out
}

func findCondition(cs []v1.PodCondition, t v1.PodConditionType) (v1.PodCondition, bool) {
	for _, c := range cs {
		if c.Type == t {
			return c, true
		}
	}
	return v1.PodCondition{}, false
}

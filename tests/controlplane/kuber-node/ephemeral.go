package main

import (
	v1 "k8s.io/api/core/v1"
)

// startEphemeral runs the ephemeral containers (kubectl debug) added to a running pod, once each.
func (w *podWorker) startEphemeral(pod *v1.Pod) {
	for _, c := range w.newEphemeral(pod) {
		go func() {
			_ = c.run(w.ctx)
		}()
	}
}

// newEphemeral records the pod's ephemeral containers not seen before; none while the pod has
// no sandbox or is stopping.
func (w *podWorker) newEphemeral(pod *v1.Pod) []*container {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ip == "" || w.terminating || w.ctx.Err() != nil {
		return nil
	}
	known := map[string]bool{}
	for _, c := range w.ephs {
		known[c.spec.Name] = true
	}
	var added []*container
	for i := range pod.Spec.EphemeralContainers {
		ec := &pod.Spec.EphemeralContainers[i]
		if known[ec.Name] {
			continue
		}
		c := &container{pod: w, spec: v1.Container(ec.EphemeralContainerCommon), ephemeral: true}
		c.state = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "ContainerCreating"}}
		w.ephs = append(w.ephs, c)
		added = append(added, c)
	}
	return added
}

package main

import (
	"context"
	"fmt"
	"log"
	"runtime"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
)

const (
	kubeletVersion = "v1.36.3"
	leaseSeconds   = 40
	renewInterval  = 10 * time.Second
	// statusEvery is how many lease renewals pass between two node status heartbeats.
	statusEvery = 3
)

// nodeAllocatable is what each node offers the scheduler.
func nodeAllocatable() v1.ResourceList {
	return v1.ResourceList{
		v1.ResourceCPU:              resource.MustParse("4"),
		v1.ResourceMemory:           resource.MustParse("8Gi"),
		v1.ResourcePods:             resource.MustParse("110"),
		v1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
}

func (a *agent) nodeObject(name string) *v1.Node {
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				v1.LabelHostname:   name,
				v1.LabelOSStable:   runtime.GOOS,
				v1.LabelArchStable: runtime.GOARCH,
			},
		},
		Status: a.nodeStatus(name, nil),
	}
}

// nodeStatus is the status the kubelet reports, with condition transition times kept from old.
func (a *agent) nodeStatus(name string, old *v1.NodeStatus) v1.NodeStatus {
	now := metav1.Now()
	st := v1.NodeStatus{
		Capacity:    nodeAllocatable(),
		Allocatable: nodeAllocatable(),
		Phase:       v1.NodeRunning,
		Addresses: []v1.NodeAddress{
			{Type: v1.NodeInternalIP, Address: "127.0.0.1"},
			{Type: v1.NodeHostName, Address: name},
		},
		DaemonEndpoints: v1.NodeDaemonEndpoints{KubeletEndpoint: v1.DaemonEndpoint{Port: int32(a.portOf(name))}},
		NodeInfo: v1.NodeSystemInfo{
			MachineID:               name,
			SystemUUID:              name,
			BootID:                  bootID(),
			KernelVersion:           kernelVersion(),
			OSImage:                 "kuber-node",
			ContainerRuntimeVersion: "kuber://" + kubeletVersion,
			KubeletVersion:          kubeletVersion,
			OperatingSystem:         runtime.GOOS,
			Architecture:            runtime.GOARCH,
		},
	}
	st.Conditions = []v1.NodeCondition{
		nodeCondition(v1.NodeMemoryPressure, v1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available", now),
		nodeCondition(v1.NodeDiskPressure, v1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure", now),
		nodeCondition(v1.NodePIDPressure, v1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available", now),
		nodeCondition(v1.NodeReady, v1.ConditionTrue, "KubeletReady", "kubelet is posting ready status", now),
	}
	if old != nil {
		keepTransitions(st.Conditions, old.Conditions)
	}
	return st
}

func nodeCondition(t v1.NodeConditionType, s v1.ConditionStatus, reason, msg string, now metav1.Time) v1.NodeCondition {
	return v1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
}

func keepTransitions(conds, old []v1.NodeCondition) {
	for i := range conds {
		for _, o := range old {
			if o.Type == conds[i].Type && o.Status == conds[i].Status {
				conds[i].LastTransitionTime = o.LastTransitionTime
			}
		}
	}
}

// registerNodes creates (or updates) every node and its lease, and reports them Ready.
func (a *agent) registerNodes(ctx context.Context) error {
	for _, name := range a.nodeNames() {
		if err := a.registerNode(ctx, name); err != nil {
			return fmt.Errorf("register node %s: %w", name, err)
		}
		if err := a.renewLease(ctx, name); err != nil {
			return fmt.Errorf("lease of node %s: %w", name, err)
		}
	}
	return nil
}

func (a *agent) registerNode(ctx context.Context, name string) error {
	want := a.nodeObject(name)
	_, err := a.client.CoreV1().Nodes().Create(ctx, want, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := a.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !hasLabels(node, want.Labels) {
			node.Labels = mergeLabels(node.Labels, want.Labels)
			if node, err = a.client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
		return a.updateNodeStatus(ctx, node)
	})
}

func hasLabels(node *v1.Node, labels map[string]string) bool {
	for k, v := range labels {
		if node.Labels[k] != v {
			return false
		}
	}
	return true
}

func mergeLabels(have, want map[string]string) map[string]string {
	if have == nil {
		have = map[string]string{}
	}
	for k, v := range want {
		have[k] = v
	}
	return have
}

func (a *agent) updateNodeStatus(ctx context.Context, node *v1.Node) error {
	node = node.DeepCopy()
	node.Status = a.nodeStatus(node.Name, &node.Status)
	_, err := a.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	return err
}

// refreshNodeStatus is the Ready heartbeat; a deleted node registers again.
func (a *agent) refreshNodeStatus(ctx context.Context, name string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := a.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return a.registerNode(ctx, name)
		}
		if err != nil {
			return err
		}
		return a.updateNodeStatus(ctx, node)
	})
}

// renewLease creates or renews the node's Lease in kube-node-lease.
func (a *agent) renewLease(ctx context.Context, name string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error { return a.renewLeaseOnce(ctx, name) })
}

func (a *agent) renewLeaseOnce(ctx context.Context, name string) error {
	leases := a.client.CoordinationV1().Leases(v1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, a.leaseObject(name, now), metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.HolderIdentity = ptr.To(name)
	lease.Spec.LeaseDurationSeconds = ptr.To[int32](leaseSeconds)
	lease.Spec.RenewTime = &now
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

func (a *agent) leaseObject(name string, now metav1.MicroTime) *coordinationv1.Lease {
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: v1.NamespaceNodeLease},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(name),
			LeaseDurationSeconds: ptr.To[int32](leaseSeconds),
			RenewTime:            &now,
		},
	}
}

// heartbeat renews the leases every 10 s and the Ready heartbeat every 30 s.
func (a *agent) heartbeat(ctx context.Context) {
	tick := time.NewTicker(renewInterval)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, name := range a.nodeNames() {
			if err := a.renewLease(ctx, name); err != nil && ctx.Err() == nil {
				log.Printf("renew lease %s: %v", name, err)
			}
			if n%statusEvery != 0 {
				continue
			}
			if err := a.refreshNodeStatus(ctx, name); err != nil && ctx.Err() == nil {
				log.Printf("node status %s: %v", name, err)
			}
		}
	}
}

package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// watchPods starts one pod informer per node (spec.nodeName=<node>) and waits for their sync.
func (a *agent) watchPods(ctx context.Context) error {
	for _, node := range a.nodeNames() {
		sel := fields.OneTermEqualSelector("spec.nodeName", node).String()
		factory := informers.NewSharedInformerFactoryWithOptions(a.client, 0,
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = sel }))
		inf := factory.Core().V1().Pods().Informer()
		if _, err := inf.AddEventHandler(a.podHandler()); err != nil {
			return err
		}
		factory.Start(ctx.Done())
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return fmt.Errorf("pod informer of %s did not sync", node)
		}
	}
	return nil
}

func (a *agent) podHandler() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { a.syncPod(obj) },
		UpdateFunc: func(_, obj any) { a.syncPod(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if pod, ok := obj.(*v1.Pod); ok {
				a.removePod(pod.UID)
			}
		},
	}
}

// syncPod starts a worker for a new pod, or passes the new object to its worker.
func (a *agent) syncPod(obj any) {
	pod, ok := obj.(*v1.Pod)
	if !ok || !a.isOurNode(pod.Spec.NodeName) {
		return
	}
	a.mu.Lock()
	w, known := a.pods[pod.UID]
	if !known {
		w = newPodWorker(a, pod)
		a.pods[pod.UID] = w
	}
	a.mu.Unlock()
	if !known {
		w.start()
	} else {
		w.setPod(pod)
		w.startEphemeral(pod)
	}
	if pod.DeletionTimestamp != nil {
		w.terminate()
	}
}

func (w *podWorker) hasSandbox() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ip != ""
}

func (w *podWorker) isTerminating() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.terminating
}

// terminate does what the kubelet does for a deleted pod: stop its containers within the grace
// period, report the final status, then delete the pod with grace period 0 and a UID precondition.
func (w *podWorker) terminate() {
	w.mu.Lock()
	already := w.terminating
	w.terminating = true
	grace := int64(30)
	if g := w.pod.DeletionGracePeriodSeconds; g != nil {
		grace = *g
	}
	w.mu.Unlock()
	if already {
		return
	}
	go func() {
		w.stopAll(grace)
		if w.hasSandbox() { // a pod this agent never ran keeps the status it has
			w.syncStatus(nil)
		}
		w.deleteFinal()
	}()
}

func (w *podWorker) deleteFinal() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	uid := types.UID(w.uid)
	opts := metav1.DeleteOptions{GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &uid}}
	err := w.a.client.CoreV1().Pods(w.namespace).Delete(ctx, w.name, opts)
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		log.Printf("delete pod %s/%s: %v", w.namespace, w.name, err)
	}
}

// removePod forgets a pod that is gone from the API: its processes, folder and IP.
func (a *agent) removePod(uid types.UID) {
	a.mu.Lock()
	w, ok := a.pods[uid]
	delete(a.pods, uid)
	a.mu.Unlock()
	if !ok {
		return
	}
	go func() {
		w.stopAll(2)
		close(w.gone)
		for _, c := range w.all() {
			_, _, _, _, id, _ := c.snapshot()
			a.setContainerID(id, nil)
		}
		if w.ip != "" {
			a.ips.release(w.ip)
		}
		if err := os.RemoveAll(w.dir); err != nil {
			log.Printf("remove %s: %v", w.dir, err)
		}
	}()
}

package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/util/flushwriter"
	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-client/pkg/logs"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	_ "k8s.io/kubernetes/pkg/apis/core/install" // PodLogOptions from query parameters
	"k8s.io/kubernetes/pkg/apis/core/v1/validation"
)

// serveContainerLogs is the kubelet's /containerLogs, read by the kubelet's own CRI log reader.
func (a *agent) serveContainerLogs(w http.ResponseWriter, r *http.Request) {
	opts, ok := logOptions(w, r)
	if !ok {
		return
	}
	pw := a.workerByName(r.PathValue("namespace"), r.PathValue("pod"))
	if pw == nil {
		httpError(w, http.StatusNotFound, "pod %q does not exist", r.PathValue("pod"))
		return
	}
	c := pw.container(r.PathValue("container"))
	if c == nil {
		httpError(w, http.StatusNotFound, "container %q not found in pod %q", r.PathValue("container"), pw.name)
		return
	}
	path, id, ok := c.logFile(w, opts.Previous)
	if !ok {
		return
	}
	stdout, stderr, ok := logStreams(w, opts)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	err := logs.ReadLogs(r.Context(), path, id, criLogOptions(opts), &logStatus{a: a}, stdout, stderr)
	if err != nil && r.Context().Err() == nil {
		_, _ = io.WriteString(w, err.Error())
	}
}

// logOptions decodes v1.PodLogOptions from the query as the kubelet does.
func logOptions(w http.ResponseWriter, r *http.Request) (*v1.PodLogOptions, bool) {
	query := r.URL.Query()
	if tail := query.Get("tail"); tail != "" {
		query["tailLines"] = []string{tail}
		if tail == "all" {
			delete(query, "tailLines")
		}
	}
	opts := &v1.PodLogOptions{}
	if err := legacyscheme.ParameterCodec.DecodeParameters(query, v1.SchemeGroupVersion, opts); err != nil {
		httpError(w, http.StatusBadRequest, `{"message": "Unable to decode query."}`)
		return nil, false
	}
	opts.TypeMeta = metav1.TypeMeta{}
	if errs := validation.ValidatePodLogOptions(opts); len(errs) > 0 {
		httpError(w, http.StatusUnprocessableEntity, `{"message": "Invalid request."}`)
		return nil, false
	}
	return opts, true
}

// criLogOptions converts v1.PodLogOptions into the CRI reader's options, as the kubelet does.
func criLogOptions(o *v1.PodLogOptions) *logs.LogOptions {
	opts := &logs.LogOptions{TailLines: o.TailLines, LimitBytes: o.LimitBytes, Follow: o.Follow, Timestamp: o.Timestamps}
	if o.SinceSeconds != nil {
		opts.Since = time.Now().Add(-time.Duration(*o.SinceSeconds) * time.Second)
	}
	if o.SinceTime != nil && o.SinceTime.After(opts.Since) {
		opts.Since = o.SinceTime.Time
	}
	return opts
}

// logStreams picks the writers for the requested stream (stdout, stderr or both).
func logStreams(w http.ResponseWriter, o *v1.PodLogOptions) (io.Writer, io.Writer, bool) {
	fw := flushwriter.Wrap(w)
	if o.Stream == nil {
		return fw, fw, true
	}
	switch *o.Stream {
	case v1.LogStreamStdout:
		return fw, nil, true
	case v1.LogStreamStderr:
		return nil, fw, true
	case v1.LogStreamAll:
		return fw, fw, true
	}
	httpError(w, http.StatusBadRequest, "invalid stream type %q", *o.Stream)
	return nil, nil, false
}

// logFile is the log of the current (or previous) run of the container and that run's ID.
func (c *container) logFile(w http.ResponseWriter, previous bool) (string, string, bool) {
	state, last, _, _, id, restarts := c.snapshot()
	if previous {
		if restarts == 0 || last.Terminated == nil {
			httpError(w, http.StatusBadRequest, "previous terminated container %q in pod %q not found", c.spec.Name, c.pod.name)
			return "", "", false
		}
		return c.logPath(restarts - 1), trimID(last.Terminated.ContainerID), true
	}
	if id == "" || state.Waiting != nil && last.Terminated == nil {
		httpError(w, http.StatusBadRequest, "container %q in pod %q is waiting to start: %s", c.spec.Name, c.pod.name, waitingReason(state))
		return "", "", false
	}
	path := c.logPath(restarts)
	if _, err := os.Stat(path); err != nil {
		path = c.logPath(max(restarts-1, 0))
	}
	return path, id, true
}

func waitingReason(s v1.ContainerState) string {
	if s.Waiting != nil && s.Waiting.Reason != "" {
		return s.Waiting.Reason
	}
	return "ContainerCreating"
}

func trimID(id string) string {
	const p = "kuber://"
	if len(id) > len(p) && id[:len(p)] == p {
		return id[len(p):]
	}
	return id
}

// logStatus is the one runtime-service call the CRI log reader makes: ContainerStatus, to stop
// following a container that has exited. The rest of the interface is not used.
type logStatus struct {
	internalapi.RuntimeService
	a *agent
}

func (s *logStatus) ContainerStatus(_ context.Context, id string, _ bool) (*runtimeapi.ContainerStatusResponse, error) {
	state := runtimeapi.ContainerState_CONTAINER_EXITED
	if c := s.a.containerByID(id); c != nil {
		if inst := c.current(); inst != nil && inst.id == id {
			state = runtimeapi.ContainerState_CONTAINER_RUNNING
		}
	}
	if id == "" {
		return nil, status.Error(codes.NotFound, "no container ID")
	}
	return &runtimeapi.ContainerStatusResponse{Status: &runtimeapi.ContainerStatus{Id: id, State: state}}, nil
}

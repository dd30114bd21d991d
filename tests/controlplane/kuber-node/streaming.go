package main

import (
	"net/http"
	"net/url"
	"strconv"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-streaming/pkg/streaming"
)

// streamServer serves the kubelet's exec, attach and portForward paths with the CRI streaming
// server container runtimes use: each request becomes a CRI request, the streaming server hands
// out its token URL, and the same HTTP request is served in process on that URL.
type streamServer struct {
	a   *agent
	cri streaming.Server
}

func (a *agent) newStreamServer() (*streamServer, error) {
	cfg := streaming.DefaultConfig
	cfg.Addr = "127.0.0.1:0" // never listened on: requests are handed to its handler
	cfg.BaseURL = &url.URL{Scheme: "https", Host: cfg.Addr, Path: "/"}
	cri, err := streaming.NewServer(cfg, &criRuntime{a: a})
	if err != nil {
		return nil, err
	}
	return &streamServer{a: a, cri: cri}, nil
}

// forward serves r on the streaming server's token URL.
func (s *streamServer) forward(w http.ResponseWriter, r *http.Request, tokenURL string) {
	u, err := url.Parse(tokenURL)
	if err != nil {
		httpError(w, http.StatusInternalServerError, "streaming URL: %v", err)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.URL.RawPath = u.Path, ""
	r2.RequestURI = u.RequestURI()
	s.cri.ServeHTTP(w, r2)
}

// target finds the running container a stream request names; ok false: the error was written.
func (s *streamServer) target(w http.ResponseWriter, r *http.Request) (string, bool) {
	pw := s.a.workerByName(r.PathValue("namespace"), r.PathValue("pod"))
	if pw == nil || (r.PathValue("uid") != "" && r.PathValue("uid") != pw.uid) {
		httpError(w, http.StatusNotFound, "pod %q not found", r.PathValue("pod"))
		return "", false
	}
	c := pw.container(r.PathValue("container"))
	if c == nil {
		httpError(w, http.StatusNotFound, "container %q not found in pod %q", r.PathValue("container"), pw.name)
		return "", false
	}
	inst := c.current()
	if inst == nil {
		httpError(w, http.StatusBadRequest, "container %q in pod %q is not running", c.spec.Name, pw.name)
		return "", false
	}
	return inst.id, true
}

// streamFlags reads the kubelet's input/output/error/tty query parameters.
func streamFlags(q url.Values) (stdin, stdout, stderr, tty bool) {
	on := func(k string) bool { v := q.Get(k); return v == "1" || v == "true" }
	stdin, stdout, stderr, tty = on("input"), on("output"), on("error"), on("tty")
	if tty {
		stderr = false
	}
	return
}

func (s *streamServer) serveExec(w http.ResponseWriter, r *http.Request) {
	id, ok := s.target(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	stdin, stdout, stderr, tty := streamFlags(q)
	req := &runtimeapi.ExecRequest{ContainerId: id, Cmd: q["command"], Tty: tty, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	if len(req.Cmd) == 0 {
		httpError(w, http.StatusBadRequest, "missing command")
		return
	}
	resp, err := s.cri.GetExec(req)
	if err != nil {
		httpError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.forward(w, r, resp.Url)
}

func (s *streamServer) serveAttach(w http.ResponseWriter, r *http.Request) {
	id, ok := s.target(w, r)
	if !ok {
		return
	}
	stdin, stdout, stderr, tty := streamFlags(r.URL.Query())
	req := &runtimeapi.AttachRequest{ContainerId: id, Tty: tty, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	resp, err := s.cri.GetAttach(req)
	if err != nil {
		httpError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.forward(w, r, resp.Url)
}

func (s *streamServer) servePortForward(w http.ResponseWriter, r *http.Request) {
	pw := s.a.workerByName(r.PathValue("namespace"), r.PathValue("pod"))
	if pw == nil || (r.PathValue("uid") != "" && r.PathValue("uid") != pw.uid) {
		httpError(w, http.StatusNotFound, "pod %q not found", r.PathValue("pod"))
		return
	}
	req := &runtimeapi.PortForwardRequest{PodSandboxId: pw.uid}
	for _, p := range r.URL.Query()["port"] {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			httpError(w, http.StatusBadRequest, "invalid port %q", p)
			return
		}
		req.Port = append(req.Port, int32(n))
	}
	resp, err := s.cri.GetPortForward(req)
	if err != nil {
		httpError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.forward(w, r, resp.Url)
}

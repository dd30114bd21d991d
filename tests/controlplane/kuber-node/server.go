package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
)

// serveAPI serves the kubelet API over TLS until ctx ends: one listener per node, each on its
// node's port and answering for its pods (as one kubelet per node would).
func (a *agent) serveAPI(ctx context.Context) error {
	tlsConfig, err := a.tlsConfig()
	if err != nil {
		return err
	}
	stream, err := a.newStreamServer()
	if err != nil {
		return err
	}
	errs := make(chan error, len(a.cfg.ports))
	for i, node := range a.nodeNames() {
		srv := &http.Server{
			Addr:              net.JoinHostPort(a.cfg.address, strconv.Itoa(a.cfg.ports[i])),
			Handler:           a.authorize(a.routes(stream, node)),
			TLSConfig:         tlsConfig,
			ReadHeaderTimeout: 30 * time.Second,
			ErrorLog:          log.New(os.Stderr, "kuber-node: http: ", log.Ltime),
		}
		ln, err := net.Listen("tcp", srv.Addr)
		if err != nil {
			return fmt.Errorf("node %s: %w", node, err)
		}
		go func() {
			<-ctx.Done()
			_ = srv.Close()
		}()
		go func() {
			err := srv.ServeTLS(ln, "", "")
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errs <- err
		}()
	}
	for range a.cfg.ports {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

// tlsConfig serves the given certificate over HTTP/1.1 (streams upgrade) and requires client certs.
func (a *agent) tlsConfig() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(a.cfg.tlsCert, a.cfg.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	pem, err := os.ReadFile(a.cfg.clientCA)
	if err != nil {
		return nil, fmt.Errorf("client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("client CA %s: no certificate", a.cfg.clientCA)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// authorize serves only clients whose certificate CommonName is one of --allowed-client.
func (a *agent) authorize(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || !slices.Contains(a.cfg.allowedClients, r.TLS.PeerCertificates[0].Subject.CommonName) {
			http.Error(w, "Forbidden", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (a *agent) routes(stream *streamServer, node string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /pods", func(w http.ResponseWriter, _ *http.Request) { a.servePods(w, node) })
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", a.serveContainerLogs)
	mux.HandleFunc("GET /metrics/resource", func(w http.ResponseWriter, _ *http.Request) { a.serveResourceMetrics(w, node) })
	for _, p := range []string{"/exec/{namespace}/{pod}/{container}", "/exec/{namespace}/{pod}/{uid}/{container}"} {
		mux.HandleFunc(p, stream.serveExec)
	}
	for _, p := range []string{"/attach/{namespace}/{pod}/{container}", "/attach/{namespace}/{pod}/{uid}/{container}"} {
		mux.HandleFunc(p, stream.serveAttach)
	}
	for _, p := range []string{"/portForward/{namespace}/{pod}", "/portForward/{namespace}/{pod}/{uid}"} {
		mux.HandleFunc(p, stream.servePortForward)
	}
	return mux
}

// servePods is the kubelet's /pods: the pods of node as a PodList.
func (a *agent) servePods(w http.ResponseWriter, node string) {
	list := v1.PodList{}
	list.Kind, list.APIVersion = "PodList", "v1"
	for _, pw := range a.workersOn(node) {
		list.Items = append(list.Items, *pw.currentPod())
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&list)
}

func httpError(w http.ResponseWriter, code int, format string, args ...any) {
	http.Error(w, fmt.Sprintf(format, args...), code)
}

// Command kuber-node is a minimal kubelet for the e2e control plane: it registers Nodes, runs the
// pods bound to them as local processes and serves the kubelet API (logs, exec, attach,
// port-forward, pods, resource metrics) that kube-apiserver proxies to.
//
// It is built on Kubernetes' own code wherever it exists: client-go for the API, the kubelet's
// CRI log reader (k8s.io/cri-client/pkg/logs) and the CRI streaming server (k8s.io/cri-streaming).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// config holds the command-line contract the e2e harness depends on.
type config struct {
	kubeconfig     string
	nodes          int
	nodePrefix     string
	address        string
	ports          []int
	tlsCert        string
	tlsKey         string
	clientCA       string
	allowedClients []string
	rootDir        string
	podIPPrefix    string
}

func main() {
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetPrefix("kuber-node: ")
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "serve-http":
			os.Exit(serveHTTPMain(os.Args[2:]))
		case "pause":
			os.Exit(pauseMain())
		}
	}
	cfg := parseFlags()
	if err := run(cfg); err != nil {
		log.Printf("%v", err)
		os.Exit(1)
	}
}

func parseFlags() config {
	var c config
	flag.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig of the agent's client identity")
	flag.IntVar(&c.nodes, "nodes", 1, "number of nodes to register")
	flag.StringVar(&c.nodePrefix, "node-prefix", "kuber-node", "node names are <prefix>-<i>")
	flag.StringVar(&c.address, "address", "127.0.0.1", "kubelet API address (loopback only)")
	flag.Func("port", "kubelet API port of each node, in node order (repeat, or comma-separate; default 10250 for one node)", func(v string) error {
		for _, p := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(p))
			if err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("port %q is not in 1..65535", p)
			}
			c.ports = append(c.ports, n)
		}
		return nil
	})
	flag.StringVar(&c.tlsCert, "tls-cert-file", "", "serving certificate")
	flag.StringVar(&c.tlsKey, "tls-private-key-file", "", "serving key")
	flag.StringVar(&c.clientCA, "client-ca-file", "", "CA that signs client certificates")
	flag.Func("allowed-client", "CommonName of a client served (repeat, or comma-separate, for several; default kube-apiserver-kubelet-client)", func(v string) error {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name == "" {
				return fmt.Errorf("empty client name in %q", v)
			}
			c.allowedClients = append(c.allowedClients, name)
		}
		return nil
	})
	flag.StringVar(&c.rootDir, "root-dir", "", "folder for pods and container logs")
	flag.StringVar(&c.podIPPrefix, "pod-ip-prefix", "127.1", "pods get <prefix>.X.Y")
	flag.Parse()
	if len(c.ports) == 0 && c.nodes == 1 {
		c.ports = []int{10250}
	}
	if len(c.allowedClients) == 0 {
		c.allowedClients = []string{"kube-apiserver-kubelet-client"}
	}
	if err := c.validate(); err != nil {
		fmt.Fprintf(os.Stderr, "kuber-node: %v\n", err)
		os.Exit(2)
	}
	return c
}

func (c *config) validate() error {
	switch {
	case c.kubeconfig == "":
		return fmt.Errorf("--kubeconfig is required")
	case c.rootDir == "":
		return fmt.Errorf("--root-dir is required")
	case c.tlsCert == "" || c.tlsKey == "" || c.clientCA == "":
		return fmt.Errorf("--tls-cert-file, --tls-private-key-file and --client-ca-file are required")
	case c.nodes < 1:
		return fmt.Errorf("--nodes must be at least 1")
	case len(c.ports) != c.nodes:
		// Each node needs its own: metrics-server and the apiserver reach a node by its port.
		return fmt.Errorf("--port names %d ports for %d nodes: one per node", len(c.ports), c.nodes)
	}
	ip := net.ParseIP(c.address)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--address %q is not a loopback address", c.address)
	}
	if p := net.ParseIP(c.podIPPrefix + ".1.1"); p == nil || p.To4() == nil || !p.IsLoopback() {
		return fmt.Errorf("--pod-ip-prefix %q must be two octets of 127.0.0.0/8", c.podIPPrefix)
	}
	return nil
}

func run(cfg config) error {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	a, err := newAgent(cfg)
	if err != nil {
		return err
	}
	errs := make(chan error, 1)
	go func() { errs <- a.serveAPI(ctx) }()
	if err := a.registerNodes(ctx); err != nil {
		return err
	}
	go a.heartbeat(ctx)
	if err := a.watchPods(ctx); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "kuber-node ready")
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	a.shutdown()
	return err
}

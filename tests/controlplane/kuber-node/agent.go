package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// agent is the node agent: one client, the pods of every node it runs, and their processes.
type agent struct {
	cfg    config
	client kubernetes.Interface
	self   string // this binary, re-executed for the built-in images
	ips    *ipAllocator

	mu      sync.Mutex
	pods    map[types.UID]*podWorker
	byCtrID map[string]*container
}

func newAgent(cfg config) (*agent, error) {
	rest, err := clientcmd.BuildConfigFromFlags("", cfg.kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	rest.UserAgent = "kuber-node"
	rest.QPS, rest.Burst = 20, 40
	client, err := kubernetes.NewForConfig(rest)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(cfg.rootDir, "pods"), 0o755); err != nil {
		return nil, err
	}
	return &agent{
		cfg:     cfg,
		client:  client,
		self:    self,
		ips:     newIPAllocator(cfg.podIPPrefix),
		pods:    map[types.UID]*podWorker{},
		byCtrID: map[string]*container{},
	}, nil
}

// nodeNames lists the nodes this agent registers.
func (a *agent) nodeNames() []string {
	names := make([]string, a.cfg.nodes)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", a.cfg.nodePrefix, i)
	}
	return names
}

// portOf is the kubelet API port of node name.
func (a *agent) portOf(name string) int {
	for i, n := range a.nodeNames() {
		if n == name {
			return a.cfg.ports[i]
		}
	}
	return 0
}

// workersOn lists the pods bound to node.
func (a *agent) workersOn(node string) []*podWorker {
	var out []*podWorker
	for _, w := range a.workers() {
		if w.currentPod().Spec.NodeName == node {
			out = append(out, w)
		}
	}
	return out
}

func (a *agent) isOurNode(name string) bool {
	for _, n := range a.nodeNames() {
		if n == name {
			return true
		}
	}
	return false
}

// workerByName finds the worker of a pod by namespace and name, preferring one not being
// deleted (a new pod may reuse the name of one still terminating).
func (a *agent) workerByName(namespace, name string) *podWorker {
	var found *podWorker
	for _, w := range a.workers() {
		if w.namespace == namespace && w.name == name {
			if !w.isTerminating() {
				return w
			}
			found = w
		}
	}
	return found
}

func (a *agent) workerByUID(uid string) *podWorker {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pods[types.UID(uid)]
}

func (a *agent) workers() []*podWorker {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*podWorker, 0, len(a.pods))
	for _, w := range a.pods {
		out = append(out, w)
	}
	return out
}

func (a *agent) containerByID(id string) *container {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byCtrID[id]
}

func (a *agent) setContainerID(id string, c *container) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c == nil {
		delete(a.byCtrID, id)
		return
	}
	a.byCtrID[id] = c
}

// shutdown stops every container process (SIGTERM, SIGKILL after 2 s).
func (a *agent) shutdown() {
	var wg sync.WaitGroup
	for _, w := range a.workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.stopAll(2)
		}()
	}
	wg.Wait()
}

// ipAllocator hands out <prefix>.X.Y, never .0 or .255 in the last octet.
type ipAllocator struct {
	mu     sync.Mutex
	prefix string
	next   int
	used   map[string]bool
}

func newIPAllocator(prefix string) *ipAllocator {
	return &ipAllocator{prefix: prefix, next: 1, used: map[string]bool{}}
}

func (p *ipAllocator) allocate() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range 256 * 256 {
		n := p.next
		p.next = (p.next + 1) % (256 * 256)
		if n%256 == 0 || n%256 == 255 {
			continue
		}
		ip := fmt.Sprintf("%s.%d.%d", p.prefix, n/256, n%256)
		if !p.used[ip] {
			p.used[ip] = true
			return ip, nil
		}
	}
	return "", fmt.Errorf("no pod IP left under %s", p.prefix)
}

func (p *ipAllocator) release(ip string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.used, ip)
}

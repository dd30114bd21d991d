//go:build tools

// Package controlplane pins the Kubernetes commands the e2e suite runs; `go build` builds them
// from this module's requirements (see xtask/src/cluster.rs).
package controlplane

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)

// Command kuber-etcd runs one etcd member in-process (go.etcd.io/etcd/server/v3/embed) for the
// e2e control plane: no etcd binary is downloaded, it is built from the module Kubernetes pins.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	dir := flag.String("data-dir", "", "data directory (created 0700)")
	client := flag.String("listen-client-url", "http://127.0.0.1:2379", "client URL")
	peer := flag.String("listen-peer-url", "http://127.0.0.1:2380", "peer URL")
	flag.Parse()
	if *dir == "" {
		fail("--data-dir is required")
	}
	clientURL, err := url.Parse(*client)
	if err != nil {
		fail("--listen-client-url: %v", err)
	}
	peerURL, err := url.Parse(*peer)
	if err != nil {
		fail("--listen-peer-url: %v", err)
	}

	cfg := embed.NewConfig()
	cfg.Dir = *dir
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// A throwaway test store: durability buys nothing and fsync dominates on shared disks.
	cfg.UnsafeNoFsync = true
	cfg.LogLevel = "error"
	// Only the apiserver compacts, so tests control when history disappears.
	cfg.AutoCompactionRetention = "0"

	server, err := embed.StartEtcd(cfg)
	if err != nil {
		fail("start: %v", err)
	}
	defer server.Close()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-server.Server.ReadyNotify():
		fmt.Println("etcd ready")
	case err := <-server.Err():
		fail("%v", err)
	case <-stop:
		return
	}
	select {
	case err := <-server.Err():
		fail("%v", err)
	case <-stop:
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "kuber-etcd: "+format+"\n", args...)
	os.Exit(1)
}

#!/bin/sh
# Records the corpus from a running control plane (`cargo xtask cluster up`): each body as
# protobuf (NAME.pb) and as JSON (NAME.json), read back to back at the same resourceVersion.
# Usage: record.sh CLUSTER_DIR SERVER_URL   (the folder `cluster up` prints, https://127.0.0.1:PORT)
set -eu
dir=$1 server=$2 out=$(dirname "$0")
kubectl="$(dirname "$0")/../../../target/controlplane/v1.36.3/kubectl --kubeconfig $dir/admin.kubeconfig"
get() { curl -sS --cert "$dir/admin.crt" --key "$dir/admin.key" --cacert "$dir/ca.crt" -H "Accept: $2" "$server$1"; }
record() { # NAME PATH: JSON, protobuf, JSON again, until both JSON reads agree (Leases renew)
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    get "$2" application/json > "$out/$1.json"
    get "$2" application/vnd.kubernetes.protobuf > "$out/$1.pb"
    if get "$2" application/json | cmp -s - "$out/$1.json"; then return; fi
  done
  echo "record.sh: $1 kept changing" >&2; exit 1
}
$kubectl create namespace corpus --dry-run=client -o yaml | $kubectl apply -f - > /dev/null
$kubectl -n corpus apply -f "$out/objects.yaml" > /dev/null
$kubectl -n corpus wait --for=condition=Ready pod/sleeper --timeout=60s > /dev/null
$kubectl -n corpus rollout status deployment/web --timeout=60s > /dev/null
sleep 2
record pod /api/v1/namespaces/corpus/pods/sleeper
record deployment /apis/apps/v1/namespaces/corpus/deployments/web
record service /api/v1/namespaces/corpus/services/web
record configmap /api/v1/namespaces/corpus/configmaps/settings
record secret /api/v1/namespaces/corpus/secrets/token
record configmap-list '/api/v1/namespaces/corpus/configmaps?labelSelector=corpus%3Dyes'
node=$($kubectl get nodes -o jsonpath='{.items[0].metadata.name}')
record node "/api/v1/nodes/$node"
record lease "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/$node"
record crd /apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com
record event-list '/apis/events.k8s.io/v1/namespaces/corpus/events?limit=2'
record core-event-list '/api/v1/namespaces/corpus/events?limit=2'
record status-404 /api/v1/namespaces/corpus/pods/missing
# A watch: the initial events, then the bookmark that ends them.
watch='/api/v1/namespaces/corpus/configmaps?watch=1&labelSelector=corpus%3Dyes&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=3'
get "$watch" application/json > "$out/watch.json" || true
get "$watch" application/vnd.kubernetes.protobuf > "$out/watch.pb" || true

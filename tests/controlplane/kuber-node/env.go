package main

import (
	"context"
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubernetes/pkg/api/v1/resource"
	"k8s.io/kubernetes/pkg/fieldpath"
	"k8s.io/kubernetes/pkg/kubelet/envvars"
	"k8s.io/kubernetes/third_party/forked/golang/expansion"
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// envVars is a container's environment in definition order, with values resolved.
type envVars struct {
	order  []string
	values map[string]string
}

func (e *envVars) set(k, v string) {
	if _, ok := e.values[k]; !ok {
		e.order = append(e.order, k)
	}
	e.values[k] = v
}

func (e *envVars) list() []string {
	out := make([]string, 0, len(e.order))
	for _, k := range e.order {
		out = append(out, k+"="+e.values[k])
	}
	return out
}

// containerEnv resolves env and envFrom of a container as the kubelet does (envFrom first,
// then env with $(VAR) expansion), on top of PATH, HOME and HOSTNAME.
func (w *podWorker) containerEnv(ctx context.Context, spec *v1.Container) (*envVars, error) {
	pod := w.currentPod()
	env := &envVars{values: map[string]string{}}
	env.set("PATH", defaultPath)
	env.set("HOME", w.dir)
	env.set("HOSTNAME", pod.Name)
	for _, e := range w.a.serviceEnv(ctx, pod) {
		env.set(e.Name, e.Value)
	}
	for _, from := range spec.EnvFrom {
		if err := w.addEnvFrom(ctx, env, pod.Namespace, from); err != nil {
			return nil, err
		}
	}
	for i := range spec.Env {
		v, err := w.envValue(ctx, pod, spec, &spec.Env[i], env)
		if err != nil {
			return nil, err
		}
		env.set(spec.Env[i].Name, v)
	}
	return env, nil
}

// serviceEnv is the kubelet's service links: the services of the pod's namespace (unless
// enableServiceLinks is false) and default/kubernetes, as the kubelet's envvars package names them.
func (a *agent) serviceEnv(ctx context.Context, pod *v1.Pod) []v1.EnvVar {
	var svcs []*v1.Service
	if pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks {
		list, err := a.client.CoreV1().Services(pod.Namespace).List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range list.Items {
				svcs = append(svcs, &list.Items[i])
			}
		}
	}
	if pod.Namespace != metav1.NamespaceDefault || len(svcs) == 0 {
		if k, err := a.client.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{}); err == nil {
			svcs = append(svcs, k)
		}
	}
	var withIP []*v1.Service
	for _, s := range svcs {
		if s.Spec.ClusterIP != "" && s.Spec.ClusterIP != v1.ClusterIPNone {
			withIP = append(withIP, s)
		}
	}
	return envvars.FromServices(withIP)
}

func (w *podWorker) addEnvFrom(ctx context.Context, env *envVars, ns string, from v1.EnvFromSource) error {
	data, err := w.sourceData(ctx, ns, from)
	if err != nil {
		return err
	}
	for k, v := range data {
		env.set(from.Prefix+k, v)
	}
	return nil
}

func (w *podWorker) sourceData(ctx context.Context, ns string, from v1.EnvFromSource) (map[string]string, error) {
	switch {
	case from.ConfigMapRef != nil:
		data, err := w.a.configMapData(ctx, ns, from.ConfigMapRef.Name)
		return optional(data, err, from.ConfigMapRef.Optional)
	case from.SecretRef != nil:
		data, err := w.a.secretData(ctx, ns, from.SecretRef.Name)
		return optional(data, err, from.SecretRef.Optional)
	}
	return nil, nil
}

func optional(data map[string]string, err error, opt *bool) (map[string]string, error) {
	if err != nil && opt != nil && *opt {
		return nil, nil
	}
	return data, err
}

func (a *agent) configMapData(ctx context.Context, ns, name string) (map[string]string, error) {
	cm, err := a.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("configmap %q: %w", name, err)
	}
	out := map[string]string{}
	for k, v := range cm.BinaryData {
		out[k] = string(v)
	}
	for k, v := range cm.Data {
		out[k] = v
	}
	return out, nil
}

func (a *agent) secretData(ctx context.Context, ns, name string) (map[string]string, error) {
	s, err := a.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("secret %q: %w", name, err)
	}
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	for k, v := range s.StringData {
		out[k] = v
	}
	return out, nil
}

func (w *podWorker) envValue(ctx context.Context, pod *v1.Pod, spec *v1.Container, e *v1.EnvVar, env *envVars) (string, error) {
	if e.ValueFrom == nil {
		return expansion.Expand(e.Value, expansion.MappingFuncFor(env.values)), nil
	}
	src := e.ValueFrom
	switch {
	case src.ConfigMapKeyRef != nil:
		data, err := w.a.configMapData(ctx, pod.Namespace, src.ConfigMapKeyRef.Name)
		return keyValue(data, err, src.ConfigMapKeyRef.Key, src.ConfigMapKeyRef.Optional)
	case src.SecretKeyRef != nil:
		data, err := w.a.secretData(ctx, pod.Namespace, src.SecretKeyRef.Name)
		return keyValue(data, err, src.SecretKeyRef.Key, src.SecretKeyRef.Optional)
	case src.FieldRef != nil:
		return w.fieldValue(pod, src.FieldRef.FieldPath)
	case src.ResourceFieldRef != nil:
		return resource.ExtractResourceValueByContainerNameAndNodeAllocatable(src.ResourceFieldRef, pod, containerNameOf(src.ResourceFieldRef, spec), nodeAllocatable())
	}
	return "", nil
}

func containerNameOf(ref *v1.ResourceFieldSelector, spec *v1.Container) string {
	if ref.ContainerName != "" {
		return ref.ContainerName
	}
	return spec.Name
}

func keyValue(data map[string]string, err error, key string, opt *bool) (string, error) {
	isOpt := opt != nil && *opt
	if err != nil {
		if isOpt {
			return "", nil
		}
		return "", err
	}
	v, ok := data[key]
	if !ok && !isOpt {
		return "", fmt.Errorf("key %q not found", key)
	}
	return v, nil
}

// fieldValue is a downward-API field: metadata.* through Kubernetes' fieldpath, the rest here.
func (w *podWorker) fieldValue(pod *v1.Pod, path string) (string, error) {
	switch path {
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		return "127.0.0.1", nil
	case "status.podIP", "status.podIPs":
		return w.ip, nil
	}
	if strings.HasPrefix(path, "metadata.") {
		return fieldpath.ExtractFieldPathAsString(pod, path)
	}
	return "", fmt.Errorf("unsupported fieldRef %q", path)
}

// expandAll applies $(VAR) expansion to command or args.
func expandAll(in []string, env *envVars) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expansion.Expand(s, expansion.MappingFuncFor(env.values))
	}
	return out
}

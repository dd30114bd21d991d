// Command proto-go-facts prints, for every Go struct field of the built-in Kubernetes types that
// has a `protobuf` tag, how Go holds it and its json tag options, as facts for kuber's protobuf
// generator (`cargo xtask proto-go-facts` writes them to spec/proto-go.facts):
//
//	message<TAB>field<TAB>go<TAB>json
//
// message is the swagger definition name (io.k8s. + the Go package path + the type name), field
// the protobuf tag's name (go-to-protobuf's default when it has none: the Go name, first letter
// lowered), go one of value, pointer, slice, map, bytes ([]byte), json the json tag options joined
// by `,` (`omitempty`, `omitzero`, `inline`; `always` when none, `-` for json:"-"). Comment lines
// name the modules (`# source`) and the types whose protobuf or JSON (un)marshalling is their own
// (`# custom-marshal`, `# custom-json`, each with the file of its method).
package main

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"reflect"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	admissionv1beta1 "k8s.io/api/admission/v1beta1"
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apidiscoveryv2beta1 "k8s.io/api/apidiscovery/v2beta1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	imagepolicyv1alpha1 "k8s.io/api/imagepolicy/v1alpha1"
	resourcev1alpha3 "k8s.io/api/resource/v1alpha3"
	apiextensionsscheme "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset/scheme"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1beta1 "k8s.io/apimachinery/pkg/apis/meta/v1beta1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"
	aggregatorscheme "k8s.io/kube-aggregator/pkg/client/clientset_generated/clientset/scheme"
)

// unregistered are the API groups client-go's scheme leaves out (webhook and discovery bodies).
var unregistered = []func(*kruntime.Scheme) error{
	admissionv1.AddToScheme, admissionv1beta1.AddToScheme, apidiscoveryv2.AddToScheme,
	apidiscoveryv2beta1.AddToScheme, imagepolicyv1alpha1.AddToScheme,
}

// extra are the message types no registered kind reaches.
var extra = []any{
	// Annotation payloads and types no kind holds any more.
	autoscalingv1.MetricSpec{}, autoscalingv1.MetricStatus{},
	autoscalingv1.HorizontalPodAutoscalerCondition{}, corev1.AvoidPods{}, corev1.Preconditions{},
	resourcev1alpha3.DeviceSelector{},
	metav1.APIGroup{}, metav1.APIGroupList{}, metav1.APIResourceList{}, metav1.APIVersions{},
	metav1.Status{}, metav1.WatchEvent{}, metav1.Table{}, metav1.PartialObjectMetadata{},
	metav1.PartialObjectMetadataList{}, metav1.List{}, metav1.ListOptions{}, metav1.GetOptions{},
	metav1.DeleteOptions{}, metav1.CreateOptions{}, metav1.UpdateOptions{}, metav1.PatchOptions{},
	metav1.ApplyOptions{}, metav1.TableOptions{}, metav1.LabelSelector{}, metav1.Duration{},
	metav1.Time{}, metav1.MicroTime{}, metav1.Timestamp{}, metav1.FieldSelectorRequirement{},
	metav1.GroupKind{}, metav1.GroupResource{}, metav1.GroupVersion{}, metav1.GroupVersionKind{},
	metav1.GroupVersionResource{}, metav1.Patch{}, metav1.RootPaths{}, metav1.Verbs{},
	metav1.FieldsV1{}, metav1.TypeMeta{}, metav1.ListMeta{}, metav1.ObjectMeta{},
	metav1.Preconditions{}, metav1.ServerAddressByClientCIDR{}, metav1.Condition{},
	metav1beta1.PartialObjectMetadataList{},
	kruntime.RawExtension{}, kruntime.TypeMeta{}, kruntime.Unknown{},
	resource.Quantity{}, resource.QuantityValue{}, intstr.IntOrString{},
}

type walker struct {
	seen   map[reflect.Type]bool
	lines  []string
	custom map[string]bool
	json   map[string]bool
	pkgs   map[string]bool
}

func main() {
	w := &walker{seen: map[reflect.Type]bool{}, custom: map[string]bool{}, json: map[string]bool{}, pkgs: map[string]bool{}}
	others := kruntime.NewScheme()
	for _, add := range unregistered {
		if err := add(others); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	for _, s := range []*kruntime.Scheme{scheme.Scheme, apiextensionsscheme.Scheme, aggregatorscheme.Scheme, others} {
		for _, t := range s.AllKnownTypes() {
			w.walk(t)
		}
	}
	for _, v := range extra {
		w.walk(reflect.TypeOf(v))
	}
	sort.Strings(w.lines)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	fmt.Fprintln(out, "# kuber proto go facts: message\tfield\tgo\tjson")
	for _, source := range sources(w.pkgs) {
		fmt.Fprintf(out, "# source %s\n", source)
	}
	fmt.Fprintf(out, "# custom-marshal %s\n", strings.Join(sorted(w.custom), " "))
	fmt.Fprintf(out, "# custom-json %s\n", strings.Join(sorted(w.json), " "))
	for _, line := range w.lines {
		fmt.Fprintln(out, line)
	}
}

// walk records the protobuf-tagged fields of t's struct (once) and walks the types they hold.
func (w *walker) walk(t reflect.Type) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		if t.Kind() == reflect.Map {
			w.walk(t.Key())
		}
		t = t.Elem()
	}
	if w.seen[t] || !strings.HasPrefix(t.PkgPath(), "k8s.io/") {
		return
	}
	w.seen[t] = true
	if file, ok := ownMethods(t, "generated.pb.go", "Marshal", "Unmarshal"); ok {
		w.custom[messageName(t)+"("+file+")"] = true
	}
	if file, ok := ownMethods(t, "", "MarshalJSON", "UnmarshalJSON"); ok {
		w.json[messageName(t)+"("+file+")"] = true
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		w.walk(f.Type)
		tag, ok := f.Tag.Lookup("protobuf")
		if !ok || tag == "-" {
			continue
		}
		name := ""
		for _, part := range strings.Split(tag, ",") {
			if n, ok := strings.CutPrefix(part, "name="); ok {
				name = n
			}
		}
		if name == "" {
			// go-to-protobuf names an unnamed field after the Go field, first letter lowered.
			name = strings.ToLower(f.Name[:1]) + f.Name[1:]
		}
		w.pkgs[t.PkgPath()] = true
		w.lines = append(w.lines, fmt.Sprintf("%s\t%s\t%s\t%s", messageName(t), name, goKind(f.Type), jsonOptions(f.Tag)))
	}
}

// messageName is the swagger definition name: k8s.io/api/core/v1.Pod → io.k8s.api.core.v1.Pod.
func messageName(t reflect.Type) string {
	rest := strings.TrimPrefix(t.PkgPath(), "k8s.io/")
	return "io.k8s." + strings.ReplaceAll(rest, "/", ".") + "." + t.Name()
}

func goKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return "pointer"
	case reflect.Map:
		return "map"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes"
		}
		return "slice"
	default:
		return "value"
	}
}

func jsonOptions(tag reflect.StructTag) string {
	json, ok := tag.Lookup("json")
	if !ok {
		return "always"
	}
	if json == "-" {
		return "-"
	}
	parts := strings.Split(json, ",")
	if len(parts) == 1 {
		return "always"
	}
	return strings.Join(parts[1:], ",")
}

// ownMethods names the source file of the first of t's methods (on *t) that is not in the file
// named generated ("" for any file); "promoted" when an embedded field has it.
func ownMethods(t reflect.Type, generated string, methods ...string) (string, bool) {
	for _, method := range methods {
		m, ok := t.MethodByName(method)
		if !ok {
			// Methods on the pointer receiver: the value's methods also appear there, as wrappers.
			if m, ok = reflect.PointerTo(t).MethodByName(method); !ok {
				continue
			}
		}
		fn := runtime.FuncForPC(m.Func.Pointer())
		if fn == nil {
			continue
		}
		file, _ := fn.FileLine(fn.Entry())
		if file == "<autogenerated>" {
			return "promoted", true
		}
		if path.Base(file) != generated {
			return path.Base(file), true
		}
	}
	return "", false
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// sources are the modules (with their versions) of the packages that gave fields.
func sources(pkgs map[string]bool) []string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(os.Stderr, "no build info")
		os.Exit(1)
	}
	found := map[string]bool{}
	for pkg := range pkgs {
		best := (*debug.Module)(nil)
		for _, dep := range info.Deps {
			if (pkg == dep.Path || strings.HasPrefix(pkg, dep.Path+"/")) && (best == nil || len(dep.Path) > len(best.Path)) {
				best = dep
			}
		}
		if best == nil {
			fmt.Fprintf(os.Stderr, "%s: no module in the build info\n", pkg)
			os.Exit(1)
		}
		version := best.Version
		if best.Replace != nil {
			version = best.Replace.Version
		}
		found[best.Path+" "+version] = true
	}
	return sorted(found)
}

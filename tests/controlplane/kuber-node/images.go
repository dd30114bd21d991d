package main

// The image table: kuber-node runs no images, it maps an image's base name (registry, tag and
// digest dropped: docker.io/library/nginx:1.27 → nginx) to a local program.
//
//	nginx, httpd                    no command: this binary as `kuber-node serve-http
//	                                --listen=<podIP>:<port>` for each containerPort (default 80)
//	busybox, alpine, ubuntu, debian command+args as given; args alone run as the command;
//	                                neither: /bin/sh
//	pause                           no command: this binary as `kuber-node pause`
//	anything else                   command+args (or args alone) as given; neither is a
//	                                CreateContainerError naming the image

import (
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// imageBase is the image name without registry, repository path, tag or digest.
func imageBase(image string) string {
	name, _, _ := strings.Cut(image, "@")
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	name, _, _ = strings.Cut(name, ":")
	return name
}

// argvFor is the command line a container runs, after $(VAR) expansion of command and args.
func (a *agent) argvFor(spec *v1.Container, podIP string, command, args []string) ([]string, error) {
	switch base := imageBase(spec.Image); base {
	case "nginx", "httpd":
		if len(command) == 0 {
			return a.serveHTTPArgv(spec, podIP), nil
		}
	case "pause":
		if len(command) == 0 {
			return []string{a.self, "pause"}, nil
		}
	case "busybox", "alpine", "ubuntu", "debian":
		if len(command) == 0 && len(args) == 0 {
			return []string{"/bin/sh"}, nil
		}
	default:
		if len(command) == 0 && len(args) == 0 {
			return nil, fmt.Errorf("image %q has no command: kuber-node runs only the commands a container gives (or nginx, httpd, busybox, alpine, ubuntu, debian, pause)", spec.Image)
		}
	}
	return append(append([]string{}, command...), args...), nil
}

func (a *agent) serveHTTPArgv(spec *v1.Container, podIP string) []string {
	argv := []string{a.self, "serve-http"}
	for _, p := range spec.Ports {
		if p.Protocol == "" || p.Protocol == v1.ProtocolTCP {
			argv = append(argv, fmt.Sprintf("--listen=%s:%d", podIP, p.ContainerPort))
		}
	}
	if len(argv) == 2 {
		argv = append(argv, fmt.Sprintf("--listen=%s:80", podIP))
	}
	return argv
}

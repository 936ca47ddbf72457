package fleet_test

import (
	"bufio"
	"bytes"
	"errors"

	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pianorhythm/server/e2e/fleet"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// The deploy checks read deploy/ against the programs themselves: every
// variable a manifest sets must be one a program declares (its -help output
// lists them), every address a program must be given in a cluster is
// given, and every port, probe and Service points where the program
// listens. A renamed flag or variable fails here.

// flagInfo is one flag of a program, as -help prints it.
type flagInfo struct {
	name, env, def string
}

// programFlags are a program's flags by flag name and by variable.
type programFlags struct {
	program string
	byName  map[string]flagInfo
	byEnv   map[string]flagInfo
}

var (
	helpFlagLine  = regexp.MustCompile(`^  -(\S+)`)
	helpEnvPart   = regexp.MustCompile(`\(env ([A-Z0-9_]+)\)`)
	helpDefault   = regexp.MustCompile(`\(default (.*)\)$`)
	listeningFlag = map[string]string{"listen": "grpc", "http": "http", "http-addr": "http", "metrics-addr": "metrics"}
)

// helpOf runs `<program> -help` with an empty environment (so defaults are
// the built-in ones) and parses the flags it lists.
func helpOf(t *testing.T, bin, program string) programFlags {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, program), "-help")
	cmd.Env = []string{}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s -help: %v\n%s", program, err, out.String())
	}
	pf := programFlags{program: program, byName: map[string]flagInfo{}, byEnv: map[string]flagInfo{}}
	var cur *flagInfo
	flush := func() {
		if cur != nil {
			pf.byName[cur.name] = *cur
			if cur.env != "" {
				pf.byEnv[cur.env] = *cur
			}
		}
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line := sc.Text()
		if m := helpFlagLine.FindStringSubmatch(line); m != nil {
			flush()
			cur = &flagInfo{name: m[1]}
			continue
		}
		if cur == nil {
			continue
		}
		if m := helpEnvPart.FindStringSubmatch(line); m != nil {
			cur.env = m[1]
		}
		if m := helpDefault.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			cur.def = strings.Trim(m[1], `"`)
		}
	}
	flush()
	if len(pf.byName) < 5 || pf.byName["listen"].env != "PR_LISTEN_ADDR" {
		t.Fatalf("%s -help: could not read its flags:\n%s", program, out.String())
	}
	return pf
}

// allFlags reads every program's flags once.
func allFlags(t *testing.T) map[string]programFlags {
	t.Helper()
	bin := fleet.Binaries(t)
	out := map[string]programFlags{}
	for _, p := range fleet.Programs {
		out[p] = helpOf(t, bin, p)
	}
	return out
}

// mustBeSet reports why a flag must be given in a deployment: its default
// only works on one machine (a loopback address, an embedded store).
func mustBeSet(f flagInfo) (string, bool) {
	switch f.name {
	case "redis-url", "mongodb-uri":
		return "empty means an embedded store, one per process", true
	case "service-key":
		return "every program signs and checks the calls between the services with it (it refuses to start without)", true
	}
	host, _, err := net.SplitHostPort(f.def)
	if err == nil && (host == "127.0.0.1" || host == "localhost") {
		return "its default " + f.def + " is loopback", true
	}
	return "", false
}

// portOf is the port of a listen address ("0.0.0.0:9101" -> 9101).
func portOf(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(p)
}

// checkEnv checks what one deployed program is given: every variable it
// is given explicitly is one it declares, every setting that must be set
// is, and every listen address is reachable from outside the container.
// own are the variables set for this program alone, env all it gets.
func checkEnv(t *testing.T, where string, pf programFlags, own []string, env map[string]string) {
	t.Helper()
	for _, name := range own {
		if _, ok := pf.byEnv[name]; !ok {
			t.Errorf("%s: sets %s, which the %s program does not read (its variables: %v)", where, name, pf.program, slices.Sorted(mapKeys(pf.byEnv)))
		}
	}
	for _, f := range pf.byName {
		if why, must := mustBeSet(f); must && f.env != "" {
			if v, ok := env[f.env]; !ok || v == "" {
				t.Errorf("%s: %s (-%s) is not set, and it must be: %s", where, f.env, f.name, why)
			}
		}
		if _, listens := listeningFlag[f.name]; listens && env[f.env] != "" {
			host, _, err := net.SplitHostPort(env[f.env])
			if err != nil {
				t.Errorf("%s: %s=%q is not host:port", where, f.env, env[f.env])
			} else if host == "127.0.0.1" || host == "localhost" {
				t.Errorf("%s: %s=%q listens on loopback only: nothing outside the container reaches it", where, f.env, env[f.env])
			}
		}
	}
}

// listenPorts are the ports a program listens on given env, by port name
// (grpc, http, metrics).
func listenPorts(t *testing.T, where string, pf programFlags, env map[string]string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for flagName, portName := range listeningFlag {
		f, ok := pf.byName[flagName]
		if !ok {
			continue
		}
		addr := f.def
		if v, ok := env[f.env]; ok {
			addr = v
		}
		if addr == "" {
			continue
		}
		p, err := portOf(addr)
		if err != nil {
			t.Errorf("%s: %s=%q: %v", where, f.env, addr, err)
			continue
		}
		out[portName] = p
	}
	return out
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// manifests is every object of deploy/k8s, decoded strictly with the
// Kubernetes API types (an unknown or misspelt field is an error).
type manifests struct {
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	secrets     map[string]*corev1.Secret
	hpas        []*autoscalingv2.HorizontalPodAutoscaler
}

func readManifests(t *testing.T, dir string) manifests {
	t.Helper()
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{appsv1.AddToScheme, corev1.AddToScheme, autoscalingv2.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	decode := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer().Decode
	m := manifests{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", dir, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
		for n := 1; ; n++ {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: document %d: %v", file, n, err)
			}
			if len(bytes.TrimSpace(stripComments(doc))) == 0 {
				continue
			}
			obj, gvk, err := decode(doc, nil, nil)
			if err != nil {
				t.Errorf("%s: document %d: %v", filepath.Base(file), n, err)
				continue
			}
			switch o := obj.(type) {
			case *appsv1.Deployment:
				m.deployments = append(m.deployments, o)
			case *corev1.Service:
				m.services = append(m.services, o)
			case *corev1.ConfigMap:
				m.configMaps[o.Name] = o
			case *corev1.Secret:
				m.secrets[o.Name] = o
			case *autoscalingv2.HorizontalPodAutoscaler:
				m.hpas = append(m.hpas, o)
			default:
				t.Errorf("%s: document %d: %v is not checked by this test; add it", filepath.Base(file), n, gvk)
			}
		}
	}
	return m
}

func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// programOfImage is the program an image runs: pianorhythm/<program>:tag.
func programOfImage(image string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(image, "pianorhythm/"), ":")
	return name
}

// TestKubernetesManifests checks deploy/k8s against the programs' flags.
func TestKubernetesManifests(t *testing.T) {
	flags := allFlags(t)
	m := readManifests(t, filepath.Join(fleet.ModuleRoot(t), "deploy", "k8s"))
	if len(m.deployments) != len(fleet.Programs) {
		t.Errorf("%d Deployments, want one per program (%v)", len(m.deployments), fleet.Programs)
	}
	// Variables of the shared ConfigMaps and Secrets: each must be read by
	// some program that gets it.
	sharedReaders := map[string][]string{}
	podPorts := map[string]map[string]int32{} // deployment -> port name -> number
	for _, d := range m.deployments {
		where := "Deployment " + d.Name
		if len(d.Spec.Template.Spec.Containers) != 1 {
			t.Errorf("%s: %d containers, want 1", where, len(d.Spec.Template.Spec.Containers))
			continue
		}
		c := d.Spec.Template.Spec.Containers[0]
		program := programOfImage(c.Image)
		pf, ok := flags[program]
		if !ok {
			t.Errorf("%s: image %s runs no program of the repository", where, c.Image)
			continue
		}
		if sel := d.Spec.Selector; sel == nil || !labelsMatch(sel.MatchLabels, d.Spec.Template.Labels) {
			t.Errorf("%s: selector %v does not match its pods' labels %v", where, sel, d.Spec.Template.Labels)
		}
		env := map[string]string{}
		var own []string
		for _, from := range c.EnvFrom {
			switch {
			case from.ConfigMapRef != nil:
				cm, ok := m.configMaps[from.ConfigMapRef.Name]
				if !ok {
					t.Errorf("%s: envFrom ConfigMap %q is not in deploy/k8s", where, from.ConfigMapRef.Name)
					continue
				}
				for k, v := range cm.Data {
					env[k] = v
					key := "ConfigMap " + cm.Name + " " + k
					sharedReaders[key] = readIf(sharedReaders[key], pf, k)
				}
			case from.SecretRef != nil:
				s, ok := m.secrets[from.SecretRef.Name]
				if !ok {
					t.Errorf("%s: envFrom Secret %q is not in deploy/k8s", where, from.SecretRef.Name)
					continue
				}
				for k, v := range secretValues(s) {
					env[k] = v
					key := "Secret " + s.Name + " " + k
					sharedReaders[key] = readIf(sharedReaders[key], pf, k)
				}
			}
		}
		for _, e := range c.Env {
			own = append(own, e.Name)
			switch {
			case e.ValueFrom != nil:
				env[e.Name] = "(from the pod)"
			default:
				env[e.Name] = e.Value
			}
		}
		checkEnv(t, where, pf, own, env)
		for _, a := range c.Args {
			name := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-")
			if _, ok := pf.byName[name]; strings.HasPrefix(a, "-") && !ok {
				t.Errorf("%s: argument %q is not a flag of %s", where, a, program)
			}
		}
		if program == "user" && (d.Spec.Replicas == nil || *d.Spec.Replicas > 1) && env["PR_USER_SIGNING_SEED"] == "" {
			t.Errorf("%s: replicas of the user service must share one signing key: set PR_USER_SIGNING_SEED", where)
		}

		// Ports: exactly the ones the program listens on, named.
		want := listenPorts(t, where, pf, env)
		got := map[string]int32{}
		for _, p := range c.Ports {
			got[p.Name] = p.ContainerPort
		}
		podPorts[d.Name] = got
		for name, port := range want {
			if got[name] != int32(port) {
				t.Errorf("%s: the program listens on %d (%s), the container declares %s as %d", where, port, name, name, got[name])
			}
		}
		for name, port := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("%s: container port %s (%d) is not one the program listens on (%v)", where, name, port, want)
			}
		}

		// Probes: on the program's ports; the edge's liveness must not
		// depend on other services (that is readiness's job).
		for kind, pr := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if pr == nil {
				t.Errorf("%s: no %s probe", where, kind)
				continue
			}
			switch {
			case pr.GRPC != nil:
				if int(pr.GRPC.Port) != want["grpc"] {
					t.Errorf("%s: %s probe checks gRPC health on %d, the program serves it on %d", where, kind, pr.GRPC.Port, want["grpc"])
				}
			case pr.HTTPGet != nil:
				port := pr.HTTPGet.Port.IntValue()
				if pr.HTTPGet.Port.StrVal != "" {
					port = int(got[pr.HTTPGet.Port.StrVal])
				}
				if port != want["http"] {
					t.Errorf("%s: %s probe GETs port %v (%d), the program's HTTP port is %d", where, kind, pr.HTTPGet.Port.String(), port, want["http"])
				}
				paths := map[string][]string{"readiness": {"/readyz", "/healthz"}, "liveness": {"/healthz"}}[kind]
				if !slices.Contains(paths, pr.HTTPGet.Path) {
					t.Errorf("%s: %s probe GETs %s, want one of %v", where, kind, pr.HTTPGet.Path, paths)
				}
			default:
				t.Errorf("%s: %s probe is neither gRPC nor HTTP", where, kind)
			}
		}
		if g := d.Spec.Template.Spec.TerminationGracePeriodSeconds; g != nil && *g < 10 {
			t.Errorf("%s: terminationGracePeriodSeconds %d is below the 10s a program may take to stop", where, *g)
		}
	}
	for key, readers := range sharedReaders {
		if len(readers) == 0 {
			t.Errorf("%s is read by no program that gets it", key)
		}
	}

	// Services: each selects a Deployment and targets its ports; the
	// addresses in the ConfigMap name a Service port that leads to the
	// program's gRPC port.
	svcByName := map[string]*corev1.Service{}
	for _, s := range m.services {
		svcByName[s.Name] = s
		d := deploymentFor(m.deployments, s.Spec.Selector)
		if d == nil {
			t.Errorf("Service %s: selector %v matches no Deployment", s.Name, s.Spec.Selector)
			continue
		}
		for _, p := range s.Spec.Ports {
			target := p.TargetPort.IntValue()
			if p.TargetPort.StrVal != "" {
				target = int(podPorts[d.Name][p.TargetPort.StrVal])
			}
			if target == 0 {
				t.Errorf("Service %s: port %s targets %s, which Deployment %s does not declare", s.Name, p.Name, p.TargetPort.String(), d.Name)
			}
		}
	}
	for _, cm := range m.configMaps {
		for k, v := range cm.Data {
			peer, ok := strings.CutSuffix(strings.TrimPrefix(k, "PR_"), "_ADDR")
			if !ok || !strings.HasPrefix(k, "PR_") || k == "PR_LISTEN_ADDR" || k == "PR_METRICS_ADDR" || k == "PR_HTTP_ADDR" {
				continue
			}
			host, port, err := net.SplitHostPort(v)
			if err != nil {
				t.Errorf("ConfigMap %s: %s=%q is not host:port", cm.Name, k, v)
				continue
			}
			s, ok := svcByName[host]
			if !ok {
				t.Errorf("ConfigMap %s: %s=%q names no Service", cm.Name, k, v)
				continue
			}
			d := deploymentFor(m.deployments, s.Spec.Selector)
			found := false
			for _, p := range s.Spec.Ports {
				if strconv.Itoa(int(p.Port)) != port {
					continue
				}
				target := p.TargetPort.IntValue()
				if p.TargetPort.StrVal != "" && d != nil {
					target = int(podPorts[d.Name][p.TargetPort.StrVal])
				}
				found = d != nil && int32(target) == podPorts[d.Name]["grpc"]
			}
			if !found || d == nil || programOfImage(d.Spec.Template.Spec.Containers[0].Image) != strings.ToLower(peer) {
				t.Errorf("ConfigMap %s: %s=%q does not lead to the %s program's gRPC port", cm.Name, k, v, strings.ToLower(peer))
			}
		}
	}
	for _, h := range m.hpas {
		ref := h.Spec.ScaleTargetRef
		var d *appsv1.Deployment
		for _, x := range m.deployments {
			if x.Name == ref.Name && ref.Kind == "Deployment" {
				d = x
			}
		}
		if d == nil {
			t.Errorf("HorizontalPodAutoscaler %s scales %s %s, which is not in deploy/k8s", h.Name, ref.Kind, ref.Name)
			continue
		}
		if d.Spec.Template.Spec.Containers[0].Resources.Requests.Cpu().IsZero() {
			t.Errorf("HorizontalPodAutoscaler %s scales on CPU, but Deployment %s requests none", h.Name, d.Name)
		}
	}
	t.Logf("checked %d Deployments, %d Services, %d ConfigMaps, %d Secrets, %d HorizontalPodAutoscalers against the flags of %v",
		len(m.deployments), len(m.services), len(m.configMaps), len(m.secrets), len(m.hpas), fleet.Programs)
}

// readIf adds pf's program to the readers of variable k if it reads it
// (and keeps the entry, empty, if not).
func readIf(readers []string, pf programFlags, k string) []string {
	if readers == nil {
		readers = []string{}
	}
	if _, reads := pf.byEnv[k]; reads {
		readers = append(readers, pf.program)
	}
	return readers
}

// onVolume reports whether the absolute directory dir is the target of
// one of the compose volumes ("source:target[:mode]").
func onVolume(volumes []string, dir string) bool {
	if !filepath.IsAbs(dir) {
		return false
	}
	for _, v := range volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && filepath.Clean(parts[1]) == filepath.Clean(dir) {
			return true
		}
	}
	return false
}

func secretValues(s *corev1.Secret) map[string]string {
	out := map[string]string{}
	for k, v := range s.Data {
		out[k] = string(v)
	}
	for k, v := range s.StringData {
		out[k] = v
	}
	return out
}

func labelsMatch(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func deploymentFor(ds []*appsv1.Deployment, selector map[string]string) *appsv1.Deployment {
	for _, d := range ds {
		if labelsMatch(selector, d.Spec.Template.Labels) {
			return d
		}
	}
	return nil
}

// TestComposeFile checks deploy/compose.yaml the same way: each service
// built from the repository runs a program, is given only variables that
// program reads (or shared ones some program reads), everything it must be
// given, and publishes the ports it listens on; every PR_<NAME>_ADDR leads
// to the gRPC port of the program of that name. Where the docker compose
// plugin exists, `docker compose config` must accept the file too.
func TestComposeFile(t *testing.T) {
	flags := allFlags(t)
	path := filepath.Join(fleet.ModuleRoot(t), "deploy", "compose.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Anchor struct {
			Restart     string            `yaml:"restart"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   []string          `yaml:"depends_on"`
		} `yaml:"x-service"`
		Services map[string]struct {
			Build *struct {
				Context    string            `yaml:"context"`
				Dockerfile string            `yaml:"dockerfile"`
				Args       map[string]string `yaml:"args"`
			} `yaml:"build"`
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			Volumes     []string          `yaml:"volumes"`
			DependsOn   []string          `yaml:"depends_on"`
			Restart     string            `yaml:"restart"`
		} `yaml:"services"`
		Volumes map[string]any `yaml:"volumes"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	shared := file.Anchor.Environment
	if len(shared) == 0 {
		t.Fatal("compose.yaml: no shared environment under x-service")
	}
	programs := map[string]string{} // compose service -> program
	listen := map[string]map[string]int{}
	sharedRead := map[string]bool{}
	for name, s := range file.Services {
		if s.Build == nil {
			continue
		}
		where := "compose service " + name
		program := s.Build.Args["SERVICE"]
		pf, ok := flags[program]
		if !ok {
			t.Errorf("%s: builds SERVICE=%q, not a program of the repository", where, program)
			continue
		}
		programs[name] = program
		var own []string
		for k, v := range s.Environment {
			if sv, isShared := shared[k]; isShared && sv == v {
				if _, reads := pf.byEnv[k]; reads {
					sharedRead[k] = true
				}
				continue
			}
			own = append(own, k)
		}
		checkEnv(t, where, pf, own, s.Environment)
		for _, a := range s.Command {
			flagName := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-")
			if _, ok := pf.byName[flagName]; strings.HasPrefix(a, "-") && !ok {
				t.Errorf("%s: command argument %q is not a flag of %s", where, a, program)
			}
		}
		ports := listenPorts(t, where, pf, s.Environment)
		listen[name] = ports
		for _, p := range s.Ports {
			parts := strings.Split(p, ":")
			container, err := strconv.Atoi(parts[len(parts)-1])
			if err != nil {
				t.Errorf("%s: port %q: %v", where, p, err)
				continue
			}
			if ports["http"] != container && ports["metrics"] != container {
				t.Errorf("%s: publishes container port %d, but the program's HTTP port is %d", where, container, ports["http"])
			}
		}
		if program == "user" && s.Environment["PR_USER_SIGNING_SEED"] == "" && !onVolume(s.Volumes, s.Environment["PR_DATA_DIR"]) {
			t.Errorf("%s: the signing key lives in PR_DATA_DIR (%q), which is on no volume: tokens would not survive a new container",
				where, s.Environment["PR_DATA_DIR"])
		}
	}
	for k := range shared {
		if !sharedRead[k] {
			t.Errorf("compose x-service environment: %s is read by no program", k)
		}
	}
	for k, v := range shared {
		peer, ok := strings.CutSuffix(strings.TrimPrefix(k, "PR_"), "_ADDR")
		if !ok || !strings.HasPrefix(k, "PR_") {
			continue
		}
		host, port, err := net.SplitHostPort(v)
		if err != nil {
			t.Errorf("compose: %s=%q is not host:port", k, v)
			continue
		}
		if programs[host] != strings.ToLower(peer) || strconv.Itoa(listen[host]["grpc"]) != port {
			t.Errorf("compose: %s=%q: service %q runs %q listening on %d", k, v, host, programs[host], listen[host]["grpc"])
		}
	}
	if len(programs) != len(fleet.Programs) {
		t.Errorf("compose runs %v, want every program %v", programs, fleet.Programs)
	}

	// docker compose config, where the plugin is installed (it needs no
	// engine).
	if _, err := exec.LookPath("docker"); err != nil {
		t.Log("docker compose config not run: no docker here")
		return
	}
	if out, err := exec.Command("docker", "compose", "version").CombinedOutput(); err != nil {
		t.Logf("docker compose config not run: the compose plugin is missing (%s)", strings.TrimSpace(string(out)))
		return
	}
	cmd := exec.Command("docker", "compose", "-f", path, "config", "--quiet")
	cmd.Env = append(os.Environ(), "PR_SERVICE_KEY=dGVzdA==") // the file requires it; any value does for config
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("docker compose config: %v\n%s", err, out)
	}
	t.Log("docker compose config accepts the file")
}

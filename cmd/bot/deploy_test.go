package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"empathybot/internal/metrics"
	"empathybot/internal/slackio"
)

func readRepo(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every YAML file under deploy/ parses (all documents).
func TestDeployYAMLParses(t *testing.T) {
	files, _ := filepath.Glob("../../deploy/*.yaml")
	more, _ := filepath.Glob("../../deploy/*.yml")
	k8s, _ := filepath.Glob("../../deploy/k8s/*.yaml")
	files = append(append(files, more...), k8s...)
	if len(files) < 6 {
		t.Fatalf("only %d YAML files under deploy/: %v", len(files), files)
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		for n := 0; ; n++ {
			var doc any
			if err := dec.Decode(&doc); err != nil {
				if err.Error() == "EOF" {
					break
				}
				t.Errorf("%s document %d: %v", f, n, err)
				break
			}
		}
	}
}

// The Slack app manifest grants every scope and subscribes to every event the
// code uses, with Socket Mode and interactivity on and the /empathy command.
func TestManifestCarriesWhatTheCodeUses(t *testing.T) {
	var m struct {
		Features struct {
			AppHome struct {
				HomeTab     bool `yaml:"home_tab_enabled"`
				MessagesTab bool `yaml:"messages_tab_enabled"`
			} `yaml:"app_home"`
			SlashCommands []struct {
				Command string `yaml:"command"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				Bot []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				Enabled bool `yaml:"is_enabled"`
			} `yaml:"interactivity"`
			SocketMode bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal([]byte(readRepo(t, "deploy/slack-app-manifest.yaml")), &m); err != nil {
		t.Fatal(err)
	}
	need := map[string]bool{}
	for _, ss := range slackio.MethodScopes {
		for _, s := range ss {
			need[s] = true
		}
	}
	for ev, ss := range slackio.EventSubscriptions {
		if !slices.Contains(m.Settings.Events.Bot, ev) {
			t.Errorf("manifest does not subscribe to %s", ev)
		}
		for _, s := range ss {
			need[s] = true
		}
	}
	for _, s := range slackio.CommandScopes {
		need[s] = true
	}
	for s := range need {
		if !slices.Contains(m.OAuth.Scopes.Bot, s) {
			t.Errorf("manifest lacks the bot scope %s", s)
		}
	}
	if !m.Features.AppHome.MessagesTab {
		t.Error("the Messages tab is off: agents would never see the reminder DMs")
	}
	if !m.Settings.SocketMode || !m.Settings.Interactivity.Enabled || !m.Features.AppHome.HomeTab {
		t.Errorf("manifest: socket mode %v, interactivity %v, home tab %v; want all on",
			m.Settings.SocketMode, m.Settings.Interactivity.Enabled, m.Features.AppHome.HomeTab)
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/empathy" {
		t.Errorf("slash commands %+v, want /empathy", m.Features.SlashCommands)
	}
}

// The Dockerfile's build stage and CI build the binary the same way.
func TestDockerfileBuildsLikeCI(t *testing.T) {
	docker, ci := readRepo(t, "deploy/Dockerfile"), readRepo(t, ".ci/run")
	if !regexp.MustCompile(`(?m)^RUN .*\./deploy/build\.sh /out/bot`).MatchString(docker) {
		t.Error("the Dockerfile's build stage does not run deploy/build.sh")
	}
	if !strings.Contains(ci, "deploy/build.sh") {
		t.Error(".ci/run does not run deploy/build.sh")
	}
	for _, want := range []string{"distroless/static", "USER nonroot", "CGO_ENABLED=0"} {
		if !strings.Contains(docker+readRepo(t, "deploy/build.sh"), want) {
			t.Errorf("Dockerfile/build.sh lack %q", want)
		}
	}
}

// Every variable the deploy files set is one the bot reads, and the README's
// table lists every variable the bot reads.
func TestDeployAndReadmeUseTheRealVariables(t *testing.T) {
	known := map[string]bool{}
	ct := reflectEnvNames()
	for _, n := range ct {
		known[n] = true
	}
	re := regexp.MustCompile(`\b(SLACK_[A-Z_]+|REDIS_[A-Z_]+|EMPATHY_[A-Z_]+|LOG_LEVEL)\b`)
	for _, f := range []string{"deploy/docker-compose.yml", "deploy/k8s/configmap.yaml", "deploy/k8s/deployment.yaml",
		"deploy/k8s/secret.example.yaml", "deploy/empathybot.env.example", "deploy/Dockerfile"} {
		for _, v := range re.FindAllString(readRepo(t, f), -1) {
			if !known[v] {
				t.Errorf("%s sets %s, which the bot does not read", f, v)
			}
		}
	}
	readme := readRepo(t, "README.md")
	for _, n := range ct {
		if !strings.Contains(readme, "| `"+n+"` |") {
			t.Errorf("README's variable table lacks %s", n)
		}
	}
	dep := readRepo(t, "deploy/k8s/deployment.yaml")
	for _, want := range []string{"replicas: 2", "path: /readyz", "path: /healthz", "secretKeyRef", "requests:"} {
		if !strings.Contains(dep, want) {
			t.Errorf("deployment.yaml lacks %q", want)
		}
	}
	if !strings.Contains(readRepo(t, "deploy/k8s/pdb.yaml"), "PodDisruptionBudget") {
		t.Error("no PodDisruptionBudget")
	}
	if !strings.Contains(readRepo(t, "deploy/docker-compose.yml"), "--appendonly") {
		t.Error("compose Redis without AOF")
	}
}

// reflectEnvNames lists the envconfig names of Config.
func reflectEnvNames() []string {
	var out []string
	rt := reflect.TypeOf(Config{})
	for i := 0; i < rt.NumField(); i++ {
		if n := rt.Field(i).Tag.Get("envconfig"); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// The deployment as an operator needs it: replicas spread over nodes, no
// service-account token, the recommended labels, a NetworkPolicy, the base
// image pinned by digest, nothing secret in the image or in git.
func TestDeployIsHardened(t *testing.T) {
	var d struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec struct {
			Template struct {
				Spec struct {
					Automount *bool `yaml:"automountServiceAccountToken"`
					Spread    []struct {
						TopologyKey string `yaml:"topologyKey"`
					} `yaml:"topologySpreadConstraints"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal([]byte(readRepo(t, "deploy/k8s/deployment.yaml")), &d); err != nil {
		t.Fatal(err)
	}
	if a := d.Spec.Template.Spec.Automount; a == nil || *a {
		t.Error("automountServiceAccountToken is not false")
	}
	if len(d.Spec.Template.Spec.Spread) == 0 || d.Spec.Template.Spec.Spread[0].TopologyKey != "kubernetes.io/hostname" {
		t.Error("the replicas are not spread across nodes")
	}
	for _, l := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/part-of"} {
		if d.Metadata.Labels[l] == "" {
			t.Errorf("the deployment lacks the label %s", l)
		}
	}
	if !strings.Contains(readRepo(t, "deploy/k8s/kustomization.yaml"), "networkpolicy.yaml") {
		t.Error("no NetworkPolicy in the kustomization")
	}
	// /metrics is reachable from the monitoring namespace only; the pods
	// listen on all interfaces because the ConfigMap says so (the binary's
	// default is 127.0.0.1).
	var np struct {
		Spec struct {
			Ingress []struct {
				From []struct {
					NamespaceSelector *struct {
						MatchLabels map[string]string `yaml:"matchLabels"`
					} `yaml:"namespaceSelector"`
				} `yaml:"from"`
			} `yaml:"ingress"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal([]byte(readRepo(t, "deploy/k8s/networkpolicy.yaml")), &np); err != nil {
		t.Fatal(err)
	}
	for _, in := range np.Spec.Ingress {
		if len(in.From) == 0 {
			t.Error("the NetworkPolicy admits port 8080 from anywhere")
		}
		for _, f := range in.From {
			if f.NamespaceSelector == nil || f.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "monitoring" {
				t.Errorf("an ingress rule admits more than the monitoring namespace: %+v", f)
			}
		}
	}
	if !strings.Contains(readRepo(t, "deploy/k8s/configmap.yaml"), `EMPATHY_HTTP_ADDR: ":8080"`) {
		t.Error("the ConfigMap does not open the HTTP port the probes and Prometheus need")
	}
	if !regexp.MustCompile(`FROM gcr.io/distroless/static-debian13:nonroot@sha256:[0-9a-f]{64}`).MatchString(readRepo(t, "deploy/Dockerfile")) {
		t.Error("the runtime base is not static-debian13:nonroot pinned by digest")
	}
	if di := readRepo(t, ".dockerignore"); !strings.Contains(di, "deploy/empathybot.env") || !strings.Contains(di, ".git") {
		t.Errorf(".dockerignore lets the env file or .git into the build context:\n%s", di)
	}
	if !strings.Contains(readRepo(t, ".gitignore"), "deploy/empathybot.env") {
		t.Error("deploy/empathybot.env (real tokens) is not ignored by git")
	}
}

// The alert rules and the dashboard name only metrics the bot exports, and
// parse as what they claim to be.
func TestMonitoringUsesTheRealMetrics(t *testing.T) {
	known := map[string]bool{}
	for _, n := range metrics.New().Names() {
		known[n] = true
	}
	if len(known) < 20 {
		t.Fatalf("only %d metrics known: %v", len(known), known)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte(readRepo(t, "deploy/monitoring/alerts.yaml")), &rules); err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal([]byte(readRepo(t, "deploy/monitoring/dashboard.json")), &dash); err != nil {
		t.Fatal(err)
	}
	exprs := map[string]string{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs["alert "+r.Alert] = r.Expr
		}
	}
	for _, p := range dash.Panels {
		for i, tg := range p.Targets {
			exprs[fmt.Sprintf("panel %q target %d", p.Title, i)] = tg.Expr
		}
	}
	if len(exprs) < 10 {
		t.Fatalf("only %d expressions found", len(exprs))
	}
	name := regexp.MustCompile(`empathy_[a-z_]+`)
	for where, e := range exprs {
		used := name.FindAllString(e, -1)
		if len(used) == 0 {
			t.Errorf("%s uses none of our metrics: %s", where, e)
		}
		for _, m := range used {
			base := m
			for _, suf := range []string{"_bucket", "_count", "_sum"} {
				base = strings.TrimSuffix(base, suf)
			}
			if !known[base] {
				t.Errorf("%s uses %s, which the bot does not export", where, m)
			}
		}
	}
}

// No built binary is in the repository (a committed one went into every
// Docker build context): no file starts with an ELF, Mach-O or PE header.
func TestNoBinariesInTheRepository(t *testing.T) {
	root := filepath.Join("..", "..")
	ignored := map[string]bool{} // the root entries of .gitignore (/bot: a local build)
	for _, l := range strings.Split(readRepo(t, ".gitignore"), "\n") {
		if strings.HasPrefix(l, "/") {
			ignored[filepath.Join(root, l[1:])] = true
		}
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if ignored[path] {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		head := make([]byte, 4)
		n, _ := io.ReadFull(f, head)
		head = head[:n]
		for _, magic := range [][]byte{{0x7f, 'E', 'L', 'F'}, {0xcf, 0xfa, 0xed, 0xfe}, {'M', 'Z'}} {
			if bytes.HasPrefix(head, magic) {
				t.Errorf("%s is a built binary: delete it (the .gitignore lists the usual ones)", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

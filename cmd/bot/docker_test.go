package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// dockerStage is one FROM … stage of the Dockerfile, its instructions
// with continuation lines joined.
type dockerStage struct {
	from  string
	lines []string
}

func (s dockerStage) instructions(op string) []string {
	var out []string
	for _, l := range s.lines {
		if kw, rest, _ := strings.Cut(l, " "); strings.EqualFold(kw, op) {
			out = append(out, strings.TrimSpace(rest))
		}
	}
	return out
}

func parseDockerfile(t *testing.T, path string) []dockerStage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []dockerStage
	var cur strings.Builder
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(cont)
			continue
		}
		cur.WriteString(line)
		inst := cur.String()
		cur.Reset()
		if kw, rest, _ := strings.Cut(inst, " "); strings.EqualFold(kw, "FROM") {
			stages = append(stages, dockerStage{from: rest})
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("%s: %q before the first FROM", path, inst)
		}
		stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, inst)
	}
	return stages
}

// TestDockerfile checks the image without a container engine: the build
// stage's command builds a static binary, and that binary runs with only
// what the final stage gives it (its ENV, an empty volume directory as
// working directory, no HOME, no PATH, no zoneinfo).
func TestDockerfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary the Dockerfile's way; skipped with -short")
	}
	root := filepath.Join("..", "..")
	stages := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage Dockerfile, got %d stage(s)", len(stages))
	}
	final := stages[len(stages)-1]
	if !strings.Contains(final.from, "distroless/static") || !strings.HasSuffix(final.from, ":nonroot") {
		t.Errorf("final stage FROM %s, want distroless/static:nonroot (CA certificates, tzdata, no shell)", final.from)
	}
	if u := final.instructions("USER"); len(u) != 1 || u[0] == "root" || strings.HasPrefix(u[0], "0") {
		t.Errorf("final stage USER %q, want one non-root user", u)
	}
	if len(final.instructions("VOLUME")) == 0 || len(final.instructions("HEALTHCHECK")) == 0 {
		t.Error("final stage lacks a VOLUME or a HEALTHCHECK")
	}
	labels := strings.Join(final.instructions("LABEL"), " ")
	for _, l := range []string{"org.opencontainers.image.title", "org.opencontainers.image.source", "org.opencontainers.image.version"} {
		if !strings.Contains(labels, l) {
			t.Errorf("final stage lacks the OCI label %s", l)
		}
	}

	// The build command, run here with the output redirected.
	var build string
	for _, run := range stages[0].instructions("RUN") {
		if strings.Contains(run, "go build") {
			build = run
		}
	}
	out := regexp.MustCompile(`-o (\S+)`).FindStringSubmatch(build)
	if !strings.Contains(build, "CGO_ENABLED=0") || out == nil {
		t.Fatalf("build stage: want RUN CGO_ENABLED=0 go build … -o PATH, got %q", build)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "briefbot")
	cmd := exec.Command("sh", "-c", strings.Replace(build, out[0], "-o "+bin, 1))
	cmd.Dir, cmd.Env = root, append(os.Environ(), "VERSION=v9.8.7-test")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, b)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is dynamically linked (%v)", p.Type)
		}
	}
	f.Close()

	// Only the final stage's environment, with its /data in a temporary
	// directory.
	volume := filepath.Join(dir, "data")
	if err := os.Mkdir(volume, 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, e := range final.instructions("ENV") {
		for _, kv := range strings.Fields(e) {
			env = append(env, strings.ReplaceAll(kv, "=/data", "="+volume))
		}
	}
	env = append(env, "ZONEINFO="+filepath.Join(dir, "no-zoneinfo"))
	runIn := func(args ...string) (string, error) {
		c := exec.Command(bin, args...)
		c.Dir, c.Env = volume, env
		b, err := c.CombinedOutput()
		return string(b), err
	}
	if b, err := runIn("version"); err != nil || !strings.Contains(b, "v9.8.7-test") {
		t.Errorf("briefbot version: %v %q, want the VERSION build arg v9.8.7-test", err, b)
	}
	for _, args := range [][]string{{"version"}, {"config", "check"}, {"sources", "list"}} {
		if b, err := runIn(args...); err != nil {
			t.Errorf("briefbot %s: %v\n%s", strings.Join(args, " "), err, b)
		}
	}
	if _, err := os.Stat(filepath.Join(volume, "briefbot.db")); err != nil {
		t.Errorf("the database is not in the volume: %v", err)
	}

	// The HEALTHCHECK command exists and, with nothing listening on the
	// image's BRIEFBOT_HTTP_ADDR, fails with a reason rather than usage.
	hc := final.instructions("HEALTHCHECK")
	if len(hc) == 1 && strings.Contains(hc[0], `"healthcheck"`) {
		b, err := runIn("healthcheck")
		if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 || strings.Contains(b, "unknown command") {
			t.Errorf("briefbot healthcheck with nothing listening: %v\n%s", err, b)
		}
	} else {
		t.Errorf("HEALTHCHECK %q, want CMD [… \"healthcheck\"]", hc)
	}
}

// TestComposeExamples: the compose files parse, build this Dockerfile,
// and give briefbot only environment variables it reads.
func TestComposeExamples(t *testing.T) {
	root := filepath.Join("..", "..")
	src, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	known := make(map[string]bool)
	for _, m := range regexp.MustCompile(`"((?:BRIEFBOT|DISCORD|OPENAI)_[A-Z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		known[m[1]] = true
	}
	for _, name := range []string{"compose.yaml", "compose.postgres.yaml"} {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Services map[string]struct {
				Build       string            `yaml:"build"`
				Environment map[string]string `yaml:"environment"`
			} `yaml:"services"`
		}
		if err := yaml.Unmarshal(data, &c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		bot, ok := c.Services["briefbot"]
		if !ok || bot.Build != "." {
			t.Errorf("%s: no briefbot service built from this Dockerfile", name)
		}
		if _, ok := bot.Environment["DISCORD_TOKEN"]; !ok {
			t.Errorf("%s: briefbot gets no DISCORD_TOKEN", name)
		}
		for k := range bot.Environment {
			if !known[k] {
				t.Errorf("%s: briefbot does not read %s", name, k)
			}
		}
	}
}

// Command bot is empathybot: a Slack bot that coaches support agents in real time.
//
// Usage:
//
//	bot [serve]        run the Socket Mode bot (the default)
//	bot demo           run the real bot against a local Slack and an embedded Redis
//	bot analyze [TEXT] explain one message, or score JSON Lines from stdin
//	bot version        print the version
//	bot help           print this help
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // EMPATHY_BUSINESS_HOURS time zones: the distroless image has no zoneinfo
)

// version is set at build time with -ldflags "-X main.version=..."; otherwise the
// module's build information is used.
var version = ""

const usage = `empathybot coaches support agents in Slack: it spots frustrated customers,
nudges the assigned agent privately with an empathy technique, and follows up.

Usage:
  bot [serve]            run the Socket Mode bot (needs SLACK_BOT_TOKEN, SLACK_APP_TOKEN)
  bot demo               play a support conversation against a local Slack, no tokens needed
  bot demo --interactive type customer and agent lines yourself
  bot analyze "TEXT"     explain how frustrated one message sounds, and how to answer it
  bot analyze < in.jsonl score JSON Lines ({"text": ...} per line) to stdout
  bot healthcheck [URL]  exit 0 if the bot at URL (default: /readyz on EMPATHY_HTTP_ADDR) is ready
  bot version            print the version
  bot help               print this help

Configuration is by environment variable; see below and README.md.
`

// usageError is a mistake in the command line; main exits 2 for it.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], EnvFrom(os.Environ()), os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bot:", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprint(os.Stderr, "\n"+usage)
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// run picks the subcommand and runs it until it finishes or ctx ends.
// It reads no process state: the environment is env.
func run(ctx context.Context, args []string, env Env, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, env, stderr)
	case "demo":
		return demo(ctx, args, stdin, stdout, stderr)
	case "analyze":
		return analyze(args, stdin, stdout)
	case "healthcheck":
		return healthcheck(ctx, args, env, stdout)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "empathybot", buildVersion())
		return nil
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		fmt.Fprintln(stdout, "\nEnvironment (an unknown EMPATHY_* variable is an error):")
		configHelp(stdout)
		return nil
	}
	return usageError{fmt.Sprintf("unknown subcommand %q", cmd)}
}

// healthcheck asks a running bot's /readyz (for container health checks:
// the image has no shell and no curl).
func healthcheck(ctx context.Context, args []string, env Env, stdout io.Writer) error {
	url := ""
	switch len(args) {
	case 0:
		addr := env.Getenv("EMPATHY_HTTP_ADDR")
		if addr == "" {
			addr = "127.0.0.1:8080"
		}
		if strings.HasPrefix(addr, ":") {
			addr = "127.0.0.1" + addr
		}
		url = "http://" + addr + "/readyz"
	case 1:
		url = args[0]
	default:
		return usageError{"healthcheck takes at most one URL"}
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready (%d): %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	fmt.Fprint(stdout, string(body))
	return nil
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " " + s.Value[:12]
			}
		}
		if v != "" {
			return v
		}
	}
	return "dev"
}

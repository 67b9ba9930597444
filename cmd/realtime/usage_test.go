package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestHelpForEveryCommand(t *testing.T) {
	for _, args := range [][]string{
		{}, {"help"}, {"--help"}, {"-h"},
		{"listen", "--help"}, {"broadcast", "-h"}, {"track", "-h"}, {"demo", "-h"},
		{"help", "listen"}, {"completion", "--help"}, {"completion", "bash", "--help"},
	} {
		r := runCLI(t, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || r.stderr != "" {
			t.Errorf("%q: exit %d, stdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
		}
	}
	r := runCLI(t, "--help")
	for _, cmd := range []string{"listen", "broadcast", "track", "demo", "completion"} {
		if !strings.Contains(r.stdout, "\n  "+cmd+" ") {
			t.Errorf("root help does not list %s:\n%s", cmd, r.stdout)
		}
	}
	// The flags of the network commands, as the Supabase CLI names the
	// ones they share (--debug, -o/--output).
	r = runCLI(t, "listen", "--help")
	for _, flag := range []string{"--url", "--key", "--token", "--channel", "--broadcast", "--presence", "--postgres",
		"--private", "-o, --output", "--max-attempts", "--timeout", "--debug", "--vsn", "SUPABASE_URL", "SUPABASE_KEY", "SUPABASE_ACCESS_TOKEN"} {
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("listen --help lacks %s", flag)
		}
	}
	r = runCLI(t, "track", "--help")
	if !strings.Contains(r.stdout, "--presence-key") || !strings.Contains(r.stdout, "--key string") {
		t.Errorf("track --help lacks --presence-key or --key:\n%s", r.stdout)
	}
}

func TestHelpNeverShowsSecretsFromTheEnvironment(t *testing.T) {
	t.Setenv(envKey, "sekrit-api-key-value")
	t.Setenv(envToken, "sekrit-user-token-value")
	for _, cmd := range []string{"listen", "broadcast", "track"} {
		r := runCLI(t, cmd, "--help")
		if strings.Contains(r.stdout, "sekrit") {
			t.Errorf("%s --help shows a secret:\n%s", cmd, r.stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	r := runCLI(t, "--version")
	if r.code != 0 || r.stdout != "realtime "+version()+"\n" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	if v := versionFrom(&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}); v != "v1.2.3" {
		t.Errorf("tagged build: %q", v)
	}
	if v := versionFrom(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}); v != fallbackVersion {
		t.Errorf("devel build: %q", v)
	}
	v := versionFrom(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}})
	if v != fallbackVersion+" (0123456789ab, modified)" {
		t.Errorf("devel build with VCS info: %q", v)
	}
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{
		"bash": "__start_realtime", "zsh": "#compdef realtime", "fish": "complete -c realtime", "powershell": "Register-ArgumentCompleter",
	} {
		r := runCLI(t, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("completion %s: exit %d, output lacks %q (stderr %s)", shell, r.code, want, r.stderr)
		}
	}
	// What the shell asks when the user presses Tab.
	r := runCLI(t, "__complete", "")
	for _, cmd := range []string{"listen", "broadcast", "track", "demo"} {
		if !strings.Contains(r.stdout, cmd) {
			t.Errorf("command completion lacks %s:\n%s", cmd, r.stdout)
		}
	}
	r = runCLI(t, "__complete", "help", "")
	if !strings.Contains(r.stdout, "listen\t") || !strings.Contains(r.stdout, "track\t") {
		t.Errorf("help topic completion:\n%s", r.stdout)
	}
	r = runCLI(t, "__complete", "listen", "--output", "")
	if !strings.HasPrefix(r.stdout, "pretty\njson\n") {
		t.Errorf("--output completion:\n%s", r.stdout)
	}
	r = runCLI(t, "__complete", "broadcast", "--vsn", "")
	if !strings.HasPrefix(r.stdout, "2.0.0\n1.0.0\n") {
		t.Errorf("--vsn completion:\n%s", r.stdout)
	}
}

// Every mistake on the command line exits 2 with the cause and, where
// there is one, the fix; nothing is sent.
func TestUsageErrors(t *testing.T) {
	t.Setenv(envURL, "")
	t.Setenv(envKey, "")
	t.Setenv(envToken, "")
	srv := "http://127.0.0.1:1" // never dialled: usage errors come first
	net := []string{"--url", srv, "--key", "k"}
	with := func(args ...string) []string { return append(args, net...) }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"lisen"}, `did you mean "listen"?`},
		{[]string{"help", "nope"}, `unknown help topic "nope"`},
		{[]string{"help", "listen", "extra"}, `unknown help topic "listen extra"`},
		{[]string{"listen", "--nope"}, "unknown flag: --nope"},
		{with("listen", "--channel", "c", "--broadcast", "a", "b"), `listen takes no arguments, got ["b"] (quote values`},
		{with("broadcast", "--channel", "c", "--event", "e", "extra"), `broadcast takes no arguments, got ["extra"]`},
		{with("track", "--channel", "c", "extra"), `track takes no arguments`},
		{[]string{"demo", "extra"}, `demo takes no arguments`},
		{with("broadcast", "--channel", "c", "--event", "e", "--http", "--ack"), "--ack cannot be used with --http"},
		{with("broadcast", "--channel", "c", "--event", "e", "--payload", "{nope"), "--payload is not valid JSON"},
		{with("broadcast", "--channel", "c"), "--channel and --event are required"},
		{with("listen", "--broadcast", "*"), "at least one --channel is needed"},
		{with("listen", "--channel", "c"), "nothing to listen to: pass --broadcast, --presence or --postgres"},
		{with("listen", "--channel", "c", "--postgres", "BOGUS:public.t"), `--postgres "BOGUS:public.t"`},
		{with("listen", "--channel", "c", "--postgres", "todos"), "want EVENT:schema.table[:filter]"},
		{with("listen", "--channel", "c", "--presence", "-o", "yaml"), `--output "yaml": want pretty or json`},
		{with("listen", "--channel", "c", "--presence", "--vsn", "3"), `--vsn "3": want 2.0.0 or 1.0.0`},
		{with("listen", "--channel", "c", "--presence", "--max-attempts", "-1"), "--max-attempts -1: must be 0"},
		{with("listen", "--channel", "c", "--presence", "--timeout", "0s"), "--timeout 0s: must be positive"},
		{with("listen", "--channel", "c", "--presence", "--timeout", "soon"), `invalid argument "soon" for "--timeout"`},
		{with("track", "--channel", "c", "--state", "[1]"), "--state is not a JSON object"},
		{with("track"), "--channel is required"},
		{[]string{"demo", "--messages", "0"}, "--messages 0: must be at least 1"},
		{[]string{"listen", "--channel", "c", "--presence", "--key", "k"}, "no project URL: pass --url or set SUPABASE_URL"},
		{[]string{"listen", "--channel", "c", "--presence", "--url", srv}, "no API key: pass --key or set SUPABASE_KEY"},
		{[]string{"broadcast", "--url", "localhost:4000", "--key", "k", "--channel", "c", "--event", "e"}, "did you mean http://localhost:4000?"},
		{[]string{"broadcast", "--url", "127.0.0.1:4000", "--key", "k", "--channel", "c", "--event", "e"}, "did you mean http://127.0.0.1:4000?"},
		{[]string{"broadcast", "--url", "abcd.supabase.co", "--key", "k", "--channel", "c", "--event", "e"}, "did you mean https://abcd.supabase.co?"},
		{[]string{"broadcast", "--url", "ftp://example.com", "--key", "k", "--channel", "c", "--event", "e"}, `scheme "ftp" is not supported; use http, https, ws or wss`},
		{[]string{"broadcast", "--url", "http://", "--key", "k", "--channel", "c", "--event", "e"}, "has no host"},
		{[]string{"broadcast", "--url", "ws://h:1/x?apikey=hidden-key-1234", "--key", "k", "--channel", "", "--event", "e"}, "--channel and --event are required"},
		{[]string{"broadcast", "--url", "localhost:1?apikey=hidden-key-1234", "--key", "k", "--channel", "c", "--event", "e"}, "(not shown: it has a query or user info)"},
	} {
		r := runCLI(t, tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, want 2 and %q in stderr:\n%s", tc.args, r.code, tc.want, r.stderr)
		}
		if !strings.HasPrefix(r.stderr, "realtime: ") || !strings.Contains(r.stderr, "--help' for usage.") {
			t.Errorf("%q: stderr does not start with the cause and end with the help hint:\n%s", tc.args, r.stderr)
		}
		if strings.Contains(r.stderr, "hidden-key-1234") {
			t.Errorf("%q: the key in the URL leaked:\n%s", tc.args, r.stderr)
		}
		if strings.Contains(r.stderr, "connecting") {
			t.Errorf("%q: a usage error connected:\n%s", tc.args, r.stderr)
		}
		checkOnePrefix(t, r.stderr)
	}
}

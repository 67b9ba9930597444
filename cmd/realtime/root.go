package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree. Every run builds a fresh tree, so
// flag values never leak from one run (or test) to the next.
func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "realtime",
		Short: "Supabase Realtime from the command line",
		Long: `realtime joins Supabase Realtime channels from the command line: print what
arrives (listen), send a broadcast (broadcast), track presence (track), or run
the scripted demo on an in-process server (demo).

The project comes from --url and --key, or SUPABASE_URL and SUPABASE_KEY;
--token or SUPABASE_ACCESS_TOKEN sets a user JWT.

Exit codes: 0 done (or interrupted with Ctrl-C), 1 failed (the cause is
printed), 2 usage error.`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// A bare "realtime" prints the help; anything else that is not a
		// command is a usage error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf("; did you mean %q?", s[0])
			}
			return usagef("%s", msg)
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SuggestionsMinimumDistance = 2
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("realtime {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.CompletionOptions.HiddenDefaultCmd = false
	root.SetHelpCommand(newHelpCmd(root))
	root.AddCommand(
		newListenCmd(),
		newBroadcastCmd(),
		newTrackCmd(),
		newDemoCmd(),
		newDevCmd(),
	)
	return root
}

// noArgs rejects positional arguments. An unquoted * in --broadcast * is
// expanded by the shell into file names, which land here: the hint says so.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	hint := ""
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			hint = ` (quote values with spaces or "*": --broadcast '*')`
			break
		}
	}
	return usagef("%s takes no arguments, got %q%s", cmd.Name(), args, hint)
}

// newHelpCmd is cobra's help command, except that an unknown topic is a
// usage error (cobra's prints the root help and exits 0).
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application.\nType realtime help [path to command] for full details.",
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			var names []string
			if len(args) == 0 {
				for _, c := range root.Commands() {
					if c.IsAvailableCommand() || c.Name() == "help" {
						names = append(names, c.Name()+"\t"+c.Short)
					}
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || target == nil || len(rest) > 0 || (len(args) > 0 && target == root) {
				return usagef("unknown help topic %q", strings.Join(args, " "))
			}
			return target.Help()
		},
	}
}

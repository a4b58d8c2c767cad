// Package cli is tug's command line: a cobra root command and one file per
// subcommand. Commands only bind flags into Options structs and call into
// the packages that do the work; errors are printed once, here.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
)

// Exit codes returned by Main.
const (
	// ExitOK means the command succeeded.
	ExitOK = 0
	// ExitError means the command failed or was called wrongly; the reason
	// has been printed to stderr.
	ExitError = 1
)

// Main runs the tug command line with args (the arguments after the program
// name) and returns the process exit code, ExitOK or ExitError. Output goes
// to stdout and errors to stderr; nothing else is written or read. Canceling
// ctx asks a running command to stop.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		// A failed write to stderr leaves nothing better to do than exit.
		_, _ = fmt.Fprintf(stderr, "Error: %v\n", err)
		return ExitError
	}
	return ExitOK
}

// newRootCommand builds the `tug` command with all its subcommands.
func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "tug",
		Short: "tug is a Kubernetes-compatible container orchestrator in one binary",
		Long: "tug is a Kubernetes-compatible container orchestrator in one binary.\n" +
			"Real Kubernetes clients (kubectl, client-go, helm) work against it unchanged.",
		// Main prints errors once; usage is for --help, not for every error.
		SilenceErrors: true,
		SilenceUsage:  true,
		// The command table in the design is the whole surface.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	// -v sets the log verbosity (the V levels of internal/log's policy).
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	root.PersistentFlags().AddGoFlag(klogFlags.Lookup("v"))
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help' for usage", err, cmd.CommandPath())
	})
	root.AddCommand(
		newServerCommand(),
		newAgentCommand(),
		newKubeconfigCommand(),
		newImagesCommand(),
		newVersionCommand(),
	)
	return root
}

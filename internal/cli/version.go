package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tugcluster/tug/internal/version"
)

// versionOptions are the flags of `tug version`.
type versionOptions struct {
	// Output is the output format: "json" for one JSON object, or empty
	// (the default) for human-readable lines.
	Output string
}

// Validate reports a flag value that `tug version` cannot honor.
func (o *versionOptions) Validate() error {
	switch o.Output {
	case "", "json":
		return nil
	default:
		return fmt.Errorf("--output %q is not supported: use json, or omit it for text", o.Output)
	}
}

func newVersionCommand() *cobra.Command {
	o := &versionOptions{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the tug version, git commit and the Kubernetes API version served",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return printVersion(cmd.OutOrStdout(), o.Output, version.Get())
		},
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", `output format: "json"; human-readable lines when omitted`)
	return cmd
}

// printVersion writes info to w in the validated output format.
func printVersion(w io.Writer, output string, info version.Info) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	_, err := io.WriteString(w, info.Text())
	return err
}

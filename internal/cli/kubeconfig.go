package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tugcluster/tug/internal/server"
)

// newKubeconfigCommand builds `tug kubeconfig`, which prints the admin
// kubeconfig a local server wrote.
func newKubeconfigCommand() *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Print the admin kubeconfig of a local server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := os.ReadFile(filepath.Join(dataDir, "kubeconfig.yaml"))
			if err != nil {
				return fmt.Errorf("read kubeconfig (has tug server run with --data-dir %s?): %w", dataDir, err)
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", server.DefaultDataDir, "data directory of the server")
	return cmd
}

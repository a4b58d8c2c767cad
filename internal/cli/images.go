package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tugcluster/tug/internal/images"
	"github.com/tugcluster/tug/internal/runtime/containerd"
	"github.com/tugcluster/tug/internal/server"
)

// imagesImportOptions are the flags of `tug images import`.
type imagesImportOptions struct {
	// DataDir is the node's data directory. Default server.DefaultDataDir.
	DataDir string
	// Endpoint is the CRI runtime to import into. Default: the containerd
	// tug supervises, <DataDir>/agent/containerd/containerd.sock.
	Endpoint string
}

// endpoint is the runtime to import into.
func (o *imagesImportOptions) endpoint() string {
	if o.Endpoint != "" {
		return o.Endpoint
	}
	return containerd.SocketPath(filepath.Join(o.DataDir, "agent"))
}

// newImagesCommand builds `tug images`, a group for image subcommands.
func newImagesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Manage the node's container images",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newImagesImportCommand())
	return cmd
}

// newImagesImportCommand builds `tug images import FILE…`.
func newImagesImportCommand() *cobra.Command {
	o := &imagesImportOptions{}
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Import OCI or docker image archives into the node's container runtime",
		Long: "Import OCI or docker image archives (docker save, ctr export) into the node's container runtime,\n" +
			"where pods can use them without a registry. Archives in <data-dir>/agent/images/*.tar are\n" +
			"imported at every agent start as well.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			endpoint := o.endpoint()
			// A clearer error than gRPC's for the common mistake.
			socket := strings.TrimPrefix(endpoint, "unix://")
			if _, err := os.Stat(socket); errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("no container runtime at %s: start the tug agent (or server) first, or pass --container-runtime-endpoint", socket)
			}
			for _, f := range files {
				if err := images.Import(cmd.Context(), endpoint, f); err != nil {
					return err
				}
				refs, err := images.ArchiveRefs(f)
				if err != nil {
					return err
				}
				if _, err := fmt.Fprintf(cmd.OutOrStdout(), "imported %s: %s\n", f, strings.Join(refs, ", ")); err != nil {
					return err
				}
			}
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&o.DataDir, "data-dir", server.DefaultDataDir, "data directory of the node")
	flags.StringVar(&o.Endpoint, "container-runtime-endpoint", "",
		"CRI socket to import into (default <data-dir>/agent/containerd/containerd.sock)")
	return cmd
}

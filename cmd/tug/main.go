// Command tug is the single binary of the tug orchestrator; see internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tugcluster/tug/internal/cli"
)

func main() {
	// The first SIGINT or SIGTERM cancels ctx so that components shut down in
	// order; stop restores the default handlers, so a second signal kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

package server

import (
	"net/http"
	"net/url"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// streamOptions are the streams an exec or attach asks for.
type streamOptions struct {
	stdin, stdout, stderr, tty bool
	command                    []string
}

// parseStreamOptions reads the exec/attach query. The API server sends
// input, output, error and tty as "1"; stdin, stdout and stderr with
// true/false (kubectl's names for them) are taken too.
func parseStreamOptions(q url.Values) (streamOptions, error) {
	var opts streamOptions
	flags := []struct {
		dst   *bool
		names []string
	}{
		{&opts.stdin, []string{"input", "stdin"}},
		{&opts.stdout, []string{"output", "stdout"}},
		{&opts.stderr, []string{"error", "stderr"}},
		{&opts.tty, []string{"tty"}},
	}
	for _, f := range flags {
		for _, name := range f.names {
			v, err := boolParam(q, name)
			if err != nil {
				return opts, err
			}
			*f.dst = *f.dst || v
		}
	}
	if !opts.stdin && !opts.stdout && !opts.stderr {
		return opts, badRequest("you must specify at least 1 of stdin, stdout, stderr")
	}
	// A terminal merges stderr into stdout.
	if opts.tty {
		opts.stderr = false
	}
	opts.command = q["command"]
	return opts, nil
}

// serveExec runs a command in a container:
// /exec/{namespace}/{pod}[/{uid}]/{container}?command=…&input=1&output=1&error=1&tty=1.
func (s *Server) serveExec(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	opts, err := parseStreamOptions(r.URL.Query())
	if err != nil {
		writeStatus(w, err)
		return
	}
	if len(opts.command) == 0 {
		writeStatus(w, badRequest("you must specify at least one command for the container"))
		return
	}
	c, err := s.findContainer(ctx, podRefFrom(r), r.PathValue("container"), false)
	if err != nil {
		writeStatus(w, err)
		return
	}
	resp, err := s.runtime.Exec(ctx, &runtimeapi.ExecRequest{
		ContainerId: c.Id, Cmd: opts.command, Tty: opts.tty, Stdin: opts.stdin, Stdout: opts.stdout, Stderr: opts.stderr,
	})
	if err != nil {
		writeStatus(w, runtimeError("exec", err))
		return
	}
	s.serveRemoteCommand(w, r, resp.Url, opts)
}

// serveAttach attaches to a container's main process:
// /attach/{namespace}/{pod}[/{uid}]/{container}?input=1&output=1&error=1&tty=1.
func (s *Server) serveAttach(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	opts, err := parseStreamOptions(r.URL.Query())
	if err != nil {
		writeStatus(w, err)
		return
	}
	c, err := s.findContainer(ctx, podRefFrom(r), r.PathValue("container"), false)
	if err != nil {
		writeStatus(w, err)
		return
	}
	resp, err := s.runtime.Attach(ctx, &runtimeapi.AttachRequest{
		ContainerId: c.Id, Tty: opts.tty, Stdin: opts.stdin, Stdout: opts.stdout, Stderr: opts.stderr,
	})
	if err != nil {
		writeStatus(w, runtimeError("attach", err))
		return
	}
	s.serveRemoteCommand(w, r, resp.Url, opts)
}

// servePortForward forwards ports of a pod:
// /portForward/{namespace}/{pod}[/{uid}], the ports named per stream
// (SPDY) or as port=… query parameters.
func (s *Server) servePortForward(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ports, err := parsePorts(r.URL.Query())
	if err != nil {
		writeStatus(w, err)
		return
	}
	sb, err := s.findSandbox(ctx, podRefFrom(r))
	if err != nil {
		writeStatus(w, err)
		return
	}
	resp, err := s.runtime.PortForward(ctx, &runtimeapi.PortForwardRequest{PodSandboxId: sb.Id, Port: ports})
	if err != nil {
		writeStatus(w, runtimeError("port-forward", err))
		return
	}
	s.servePortForwardStream(w, r, resp.Url)
}

package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/report"
)

// reportRecorder starts the --report folder of a training run and hooks it
// into o; with no --pictures the family's pictures go to DIR/pictures.
func reportRecorder(a *trainArgs, s *model.Settings, o *model.TrainOptions) (*report.Recorder, error) {
	if a.Report == "" {
		return nil, nil
	}
	if o.Pictures == "" {
		o.Pictures = filepath.Join(a.Report, "pictures")
	}
	rec, err := report.NewRecorder(a.Report, s)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Pictures, 0o755); err != nil {
		return nil, fmt.Errorf("--report: %w", err)
	}
	o.OnEpoch = rec.Epoch
	return rec, nil
}

// cmdServe runs `latent serve DIR... [--addr HOST:PORT]`: the report folders
// on loopback (127.0.0.1) unless --addr names another address.
func cmdServe(env *Env, args []string) error {
	fs := newFlags("serve")
	addr := fs.String("addr", "127.0.0.1:6006", "address to listen on (loopback by default; another host serves the reports to the network)")
	dirs, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return usagef("serve: no report folders given (latent train ... --report DIR writes one)")
	}
	srv, err := report.NewServer(dirs...)
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return usagef("--addr: %v", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		progress(env, "serve: --addr %s is not loopback: anyone who can reach this machine can read the reports", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	progress(env, "serving %d run(s) on http://%s/ (Ctrl-C stops)", len(srv.Runs()), ln.Addr())
	ctx, stop := signalContext(env)
	defer stop()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

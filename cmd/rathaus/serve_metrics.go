// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"context"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"time"

	"rathaus"
	"rathaus/web"
)

// defaultMetricsAddr is where serve offers /metrics unless told otherwise:
// loopback only, on the port commonly used for Prometheus exporters.
const defaultMetricsAddr = "127.0.0.1:9464"

// metricsServer is the internal listener of /metrics, /healthz and /readyz
// (web.Server.OpsHandler), apart from the public portal.
type metricsServer struct {
	hs   *http.Server
	ln   net.Listener
	base string
	log  *slog.Logger
}

// metricsAddrExplicit reports whether the operator chose the metrics
// address (flag or RATHAUS_METRICS_ADDR) rather than taking the default.
func metricsAddrExplicit(fs *flag.FlagSet, env *Env) bool {
	set := env.Getenv("RATHAUS_METRICS_ADDR") != ""
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "metrics-addr" {
			set = true
		}
	})
	return set
}

// listenMetrics opens the metrics listener on addr; "off" (or "") gives
// nil. A busy or invalid address the operator chose is an error; when the
// default address is taken (a second instance on the same host, tests),
// serve goes on without the listener and logs a warning.
func listenMetrics(addr string, explicit bool, srv *web.Server, log *slog.Logger) (*metricsServer, error) {
	if addr == "" || addr == "off" {
		log.Info("metrics listener off")
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if !explicit {
			log.Warn("metrics listener off: default address not available", "addr", addr, "err", err.Error())
			return nil, nil
		}
		return nil, rathaus.Wrap(rathaus.EUNAVAILABLE, err, "cannot listen on --metrics-addr %s: %v", addr, err)
	}
	ms := &metricsServer{ln: ln, base: "http://" + ln.Addr().String(), log: log, hs: &http.Server{
		Handler:           srv.OpsHandler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	log.Info("metrics on "+ms.base+"/metrics", "addr", ln.Addr().String())
	return ms, nil
}

// serve runs the listener until shutdown, after which it returns
// http.ErrServerClosed.
func (ms *metricsServer) serve() error { return ms.hs.Serve(ms.ln) }

// shutdown stops the listener gracefully, waiting at most 5 s for running
// scrapes; a nil server does nothing.
func (ms *metricsServer) shutdown(ctx context.Context) {
	if ms == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := ms.hs.Shutdown(ctx); err != nil {
		ms.log.Warn("metrics listener shutdown", "err", err.Error())
	}
}

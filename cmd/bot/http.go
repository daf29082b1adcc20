package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/briefbot/briefbot/discord"
	"github.com/briefbot/briefbot/sqlstore"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Timeouts of the operations HTTP server (--http-addr). Probes and
// scrapes are small: a client slower than this is cut off rather than
// allowed to hold a connection.
const (
	opsReadHeaderTimeout = 5 * time.Second
	opsReadTimeout       = 10 * time.Second
	opsWriteTimeout      = 30 * time.Second
	opsIdleTimeout       = 60 * time.Second
	// opsShutdownTimeout is how long requests in flight get to finish
	// when run stops.
	opsShutdownTimeout = 5 * time.Second
	// checkTimeout bounds each readiness check.
	checkTimeout = 2 * time.Second
)

// readyCheck is one readiness check: it names what it checks and returns
// why that is not ready, or nil.
type readyCheck struct {
	name  string
	check func(ctx context.Context) error
}

// opsHandler serves /healthz (liveness: 200 "ok" while the process
// runs), /readyz (200 "ok" when every check passes, else 503 with one
// "name: reason" line per failing check) and /metrics (the registry, in
// Prometheus's text format). scrub removes secrets from reasons.
func opsHandler(m *metrics, checks []readyCheck, scrub func(string) string, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		plain(w, http.StatusOK, "ok\n")
	})
	var ready atomic.Int32 // 0 unknown, 1 ready, 2 not ready: changes are logged
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		var failing []string
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
			err := c.check(ctx)
			cancel()
			if err != nil {
				failing = append(failing, c.name+": "+singleLine(scrub(err.Error())))
			}
		}
		if len(failing) > 0 {
			if ready.Swap(2) != 2 {
				log.Warn("not ready", "error", strings.Join(failing, "; "))
			}
			plain(w, http.StatusServiceUnavailable, strings.Join(failing, "\n")+"\n")
			return
		}
		if ready.Swap(1) == 2 {
			log.Info("ready again")
		}
		plain(w, http.StatusOK, "ok\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling:       promhttp.ContinueOnError,
		Registry:            m.reg,
		MaxRequestsInFlight: 4,
		Timeout:             opsWriteTimeout - 5*time.Second,
	}))
	return mux
}

func plain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

// singleLine keeps a reason on one line.
func singleLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// secretScrubber returns a function that replaces each non-empty secret
// in a message with "[redacted]".
func secretScrubber(secrets ...string) func(string) string {
	var pairs []string
	for _, s := range secrets {
		if len(s) >= 4 {
			pairs = append(pairs, s, "[redacted]")
		}
	}
	r := strings.NewReplacer(pairs...)
	return r.Replace
}

// opsChecks are the readiness checks of `briefbot run`: the database
// answers, the gateway session is up (gateway mode only), the job queue
// runs, and run is not stopping (ctx not done).
func opsChecks(ctx context.Context, store *sqlstore.Store, bot *discord.Bot, gateway bool, queueRunning *atomic.Bool) []readyCheck {
	checks := []readyCheck{{"database", store.Ping}}
	if gateway {
		checks = append(checks, readyCheck{"discord", func(context.Context) error {
			if !bot.Connected() {
				return errors.New("gateway session not connected")
			}
			return nil
		}})
	}
	return append(checks,
		readyCheck{"jobs", func(context.Context) error {
			if !queueRunning.Load() {
				return errors.New("job queue not running")
			}
			return nil
		}},
		readyCheck{"shutdown", func(context.Context) error {
			if ctx.Err() != nil {
				return errors.New("stopping")
			}
			return nil
		}})
}

// listenOps listens on addr (--http-addr) and serves opsHandler there
// until stopped.
func listenOps(ctx context.Context, addr string, m *metrics, checks []readyCheck, scrub func(string) string, log *slog.Logger) (*opsServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--http-addr: %w", err)
	}
	log.Info("serving health and metrics", "addr", ln.Addr().String())
	return startOps(ln, opsHandler(m, checks, scrub, log), log), nil
}

// opsServer is the operations HTTP server of `briefbot run --http-addr`.
type opsServer struct {
	srv  *http.Server
	done chan error
}

// startOps serves h on ln until stop is called.
func startOps(ln net.Listener, h http.Handler, log *slog.Logger) *opsServer {
	s := &opsServer{
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: opsReadHeaderTimeout,
			ReadTimeout:       opsReadTimeout,
			WriteTimeout:      opsWriteTimeout,
			IdleTimeout:       opsIdleTimeout,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		},
		done: make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s
}

// stop shuts the server down, giving requests in flight
// opsShutdownTimeout, and waits for it.
func (s *opsServer) stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opsShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

// dbPassword returns the password in a PostgreSQL URL, or "".
func dbPassword(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

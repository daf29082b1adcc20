package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// httpAddrEnv names the environment variable that sets --http-addr of
// run and --addr of healthcheck.
const httpAddrEnv = "BRIEFBOT_HTTP_ADDR"

func (a *app) healthcheckCommand() *cobra.Command {
	var addr string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Check that briefbot run answers on its --http-addr: exit 0 when /healthz is 200, else 1",
		Long: `GET http://ADDR/healthz of a running briefbot run --http-addr and exit 0
if it answers 200, else 1 with the reason on one line. It needs no shell or
curl, for Docker's HEALTHCHECK in a distroless image. ADDR is --addr, else
$` + httpAddrEnv + ` (as run reads it); a listen address such as :9090 or
0.0.0.0:9090 is checked on the loopback interface.`,
		Example: `  briefbot healthcheck --addr 127.0.0.1:9090`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("addr") {
				addr = strings.TrimSpace(a.getenv(httpAddrEnv))
			}
			if addr == "" {
				return fmt.Errorf("healthcheck: no address: pass --addr HOST:PORT or set %s (briefbot run's --http-addr)", httpAddrEnv)
			}
			target, err := probeAddr(addr)
			if err != nil {
				return err
			}
			if err := healthcheck(cmd.Context(), "http://"+target+"/healthz", timeout); err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, "ok")
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "address of briefbot run's --http-addr, HOST:PORT (default $"+httpAddrEnv+")")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}

// probeAddr turns a listen address into one to connect to: no host, or
// an unspecified one (0.0.0.0, ::), means the loopback interface.
func probeAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", fmt.Errorf("healthcheck: bad address %q: want HOST:PORT, such as 127.0.0.1:9090 or :9090", addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port), nil
}

// healthcheck GETs url and returns nil on a 200, else why not.
func healthcheck(ctx context.Context, url string, timeout time.Duration) error {
	client := &http.Client{
		Timeout: timeout,
		// Straight to the address: no proxy from the environment, no
		// redirects followed.
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue interface{ Timeout() bool }
		if errors.As(err, &ue) && ue.Timeout() {
			return fmt.Errorf("healthcheck %s: no answer within %s", url, timeout)
		}
		var oe *net.OpError
		if errors.As(err, &oe) {
			return fmt.Errorf("healthcheck %s: %v", url, oe.Err)
		}
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck %s: %s", url, resp.Status)
	}
	return nil
}

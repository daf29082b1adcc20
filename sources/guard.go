package sources

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress reports that a fetch was refused because the address
// being dialed is private, loopback, link-local or otherwise not a public
// unicast address. Only operator sources with allow_private may reach such
// addresses. The check runs when connecting, so redirects and DNS names that
// resolve (or re-resolve) to such addresses are refused too.
var ErrForbiddenAddress = errors.New("forbidden address")

// CheckAddr reports whether ip is a public unicast address the guarded
// fetcher may connect to. It returns nil for a public address and otherwise
// an error wrapping ErrForbiddenAddress that says what kind of address ip is.
//
// Refused are unspecified, loopback, private (RFC 1918, fc00::/7), link-local
// (169.254.0.0/16, fe80::/10), multicast, broadcast, shared (100.64.0.0/10),
// "this network" (0.0.0.0/8), benchmarking, documentation and other reserved
// ranges, and IPv6 addresses that embed a refused IPv4 address: IPv4-mapped,
// IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
func CheckAddr(ip netip.Addr) error {
	if reason := guardReason(ip); reason != "" {
		return &guardAddrError{addr: ip.String(), reason: reason}
	}
	return nil
}

// guardAddrError is the error CheckAddr returns.
type guardAddrError struct {
	// host is the name (or other spelling of the address) that was
	// dialed, when it is not addr itself.
	host   string
	addr   string
	reason string
}

func (e *guardAddrError) Error() string { return "sources: " + e.detail() }

// detail is the message without the package prefix, for use inside a
// FetchError, which carries its own.
func (e *guardAddrError) detail() string {
	what := e.addr
	if e.host != "" && e.host != e.addr {
		what = e.host + " (" + e.addr + ")"
	}
	return fmt.Sprintf("refusing to connect to %s: %s (allowed only for operator sources with allow_private: true)",
		what, e.reason)
}

func (e *guardAddrError) Unwrap() error { return ErrForbiddenAddress }

// guardPrefixes lists the ranges the netip predicates do not already cover.
// It is read-only.
var guardPrefixes = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `"this network" address`},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved (IETF protocol assignment) address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation address"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved address"},
	{netip.MustParsePrefix("::/96"), "reserved (IPv4-compatible) address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "private (local-use NAT64) address"},
	{netip.MustParsePrefix("100::/64"), "reserved (discard-only) address"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation address"},
	{netip.MustParsePrefix("fec0::/10"), "private (site-local) address"},
}

var (
	guardNAT64 = netip.MustParsePrefix("64:ff9b::/96")
	guard6to4  = netip.MustParsePrefix("2002::/16")
)

// guardReason returns why ip is refused, or "" when it is allowed.
func guardReason(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid address"
	}
	ip = ip.WithZone("")
	if ip.Is4In6() {
		if r := guardReason(ip.Unmap()); r != "" {
			return r + " (IPv4-mapped)"
		}
		return ""
	}
	switch {
	case ip.IsUnspecified():
		return "unspecified address"
	case ip.IsLoopback():
		return "loopback address"
	case ip.IsPrivate():
		return "private address"
	case ip.IsLinkLocalUnicast():
		return "link-local address"
	case ip.IsMulticast():
		return "multicast address"
	}
	for _, p := range guardPrefixes {
		if p.prefix.Contains(ip) {
			return p.reason
		}
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case guardNAT64.Contains(ip):
			v4 := netip.AddrFrom4([4]byte(b[12:16]))
			if r := guardReason(v4); r != "" {
				return r + " embedded in a NAT64 address"
			}
		case guard6to4.Contains(ip):
			v4 := netip.AddrFrom4([4]byte(b[2:6]))
			if r := guardReason(v4); r != "" {
				return r + " embedded in a 6to4 address"
			}
		}
	}
	return ""
}

// guardCheckAddrPort is the dial-time check of the guarded transport.
func guardCheckAddrPort(ap netip.AddrPort) error { return CheckAddr(ap.Addr()) }

// guardDialer returns a dialer whose Control hook hands the address actually
// being dialed (after DNS resolution, once per attempted address) to check,
// and aborts the connection when check fails. A nil check allows everything.
func guardDialer(timeout time.Duration, check func(netip.AddrPort) error) *net.Dialer {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if check == nil {
		return d
	}
	d.Control = func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &guardAddrError{addr: fmt.Sprintf("%q", address), reason: "unparsable " + network + " address"}
		}
		return check(ap)
	}
	return d
}

// guardLookup resolves a host name to its addresses, as
// (*net.Resolver).LookupNetIP does.
type guardLookup func(ctx context.Context, network, host string) ([]netip.Addr, error)

// guardFallbackDelay is how long a dial waits on the first address family
// before racing the other, as net.Dialer's default (RFC 6555).
const guardFallbackDelay = 300 * time.Millisecond

// guardDialContext returns the DialContext of the guarded transport. It
// resolves the host itself (with lookup, or d's resolver when lookup is
// nil), hands every address of the name to check, and refuses the whole
// name when any is refused: a name with one private address among public
// ones is refused, whatever order the addresses come in. Only then does it
// dial the addresses it checked, by number, so that nothing resolves the
// name again between the check and the connection; d's Control hook checks
// each connection once more. Hosts written as IPv4 numbers in the forms
// inet_aton accepts (2130706433, 0x7f.0.0.1, 0177.0.0.1, 127.1) are the
// address they spell, not names to look up, so they are checked as such
// whatever resolver is in use. A nil check allows every address.
func guardDialContext(d *net.Dialer, lookup guardLookup, check func(netip.AddrPort) error) func(ctx context.Context, network, address string) (net.Conn, error) {
	if lookup == nil {
		lookup = d.Resolver.LookupNetIP // a nil *net.Resolver is the default one
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, portText, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		port, err := strconv.ParseUint(portText, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("bad port %q", portText)
		}
		ips, err := guardResolve(ctx, lookup, network, host)
		if err != nil {
			return nil, err
		}
		addrs := make([]netip.AddrPort, len(ips))
		for i, ip := range ips {
			addrs[i] = netip.AddrPortFrom(ip, uint16(port))
			if check == nil {
				continue
			}
			if err := check(addrs[i]); err != nil {
				var gerr *guardAddrError
				if errors.As(err, &gerr) {
					named := *gerr
					named.host = host
					return nil, &named
				}
				return nil, err
			}
		}
		return guardDialParallel(ctx, d, network, addrs)
	}
}

// guardResolve returns the addresses of host: itself when it is an IP
// address in any spelling, else what lookup finds.
func guardResolve(ctx context.Context, lookup guardLookup, network, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	if ip, ok := guardParseIPv4(host); ok {
		return []netip.Addr{ip}, nil
	}
	ipNet := "ip"
	switch network {
	case "tcp4", "udp4":
		ipNet = "ip4"
	case "tcp6", "udp6":
		ipNet = "ip6"
	}
	ips, err := lookup(ctx, ipNet, host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return ips, nil
}

// HostAddr returns the address a URL's host (as url.URL.Hostname gives
// it) spells literally, in any form the dial-time guard reads: IPv6,
// dotted IPv4, and inet_aton's shorter, decimal, octal and hex forms
// (2130706433, 0x7f.0.0.1, 127.1). It reports false for a host name.
func HostAddr(host string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, true
	}
	return guardParseIPv4(host)
}

// guardParseIPv4 parses host as an IPv4 address in the forms inet_aton
// (and so getaddrinfo, curl and browsers) accepts: one to four parts
// separated by dots, each decimal, octal with a leading 0, or hex with a
// leading 0x, the last part filling the remaining bytes, and an optional
// trailing dot. It reports false for anything else, such as a host name.
func guardParseIPv4(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(host, ".")
	parts := strings.Split(host, ".")
	if host == "" || len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		base := 10
		switch {
		case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
			base, p = 16, p[2:]
			if p == "" {
				p = "0"
			}
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		if p == "" || p[0] == '+' || p[0] == '-' {
			return netip.Addr{}, false
		}
		n, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v |= n << (8 * (3 - i))
			continue
		}
		if n >= 1<<(8*(4-i)) {
			return netip.Addr{}, false
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// guardDialParallel dials addrs in order and returns the first
// connection. When they hold both IPv4 and IPv6 addresses, the family of
// the first is tried first and the other starts guardFallbackDelay later
// (or as soon as the first family fails), as net.Dialer does.
func guardDialParallel(ctx context.Context, d *net.Dialer, network string, addrs []netip.AddrPort) (net.Conn, error) {
	var primaries, fallbacks []netip.AddrPort
	for _, ap := range addrs {
		if ap.Addr().Is4() == addrs[0].Addr().Is4() {
			primaries = append(primaries, ap)
		} else {
			fallbacks = append(fallbacks, ap)
		}
	}
	if len(fallbacks) == 0 {
		return guardDialSerial(ctx, d, network, primaries)
	}

	type result struct {
		conn    net.Conn
		err     error
		primary bool
	}
	results := make(chan result) // unbuffered: a racer that loses closes its connection
	returned := make(chan struct{})
	defer close(returned)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	race := func(primary bool) {
		list := fallbacks
		if primary {
			list = primaries
		}
		c, err := guardDialSerial(ctx, d, network, list)
		select {
		case results <- result{conn: c, err: err, primary: primary}:
		case <-returned:
			if c != nil {
				c.Close()
			}
		}
	}
	go race(true)
	timer := time.NewTimer(guardFallbackDelay)
	defer timer.Stop()
	var primaryErr, fallbackErr error
	fallbackStarted, pending := false, 1
	startFallback := func() {
		if !fallbackStarted {
			fallbackStarted, pending = true, pending+1
			go race(false)
		}
	}
	for {
		select {
		case <-timer.C:
			startFallback()
		case r := <-results:
			pending--
			if r.err == nil {
				return r.conn, nil
			}
			if r.primary {
				primaryErr = r.err
				startFallback()
			} else {
				fallbackErr = r.err
			}
			if pending == 0 {
				if primaryErr != nil {
					return nil, primaryErr
				}
				return nil, fallbackErr
			}
		}
	}
}

// guardDialSerial dials addrs one after the other and returns the first
// connection, or the first error.
func guardDialSerial(ctx context.Context, d *net.Dialer, network string, addrs []netip.AddrPort) (net.Conn, error) {
	var first error
	for _, ap := range addrs {
		c, err := d.DialContext(ctx, network, ap.String())
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

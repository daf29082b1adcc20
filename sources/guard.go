package sources

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
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
	addr   string
	reason string
}

func (e *guardAddrError) Error() string { return "sources: " + e.detail() }

// detail is the message without the package prefix, for use inside a
// FetchError, which carries its own.
func (e *guardAddrError) detail() string {
	return fmt.Sprintf("refusing to connect to %s: %s (allowed only for operator sources with allow_private: true)",
		e.addr, e.reason)
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

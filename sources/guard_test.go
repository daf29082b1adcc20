package sources

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr   string
		reason string // "" when allowed
	}{
		// Public IPv4 and IPv6.
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"93.184.215.14", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"192.169.0.1", ""},
		{"223.255.255.255", ""},
		{"2606:4700:4700::1111", ""},
		{"2001:4860:4860::8888", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""},
		{"2002:808:808::1", ""},

		// IPv4.
		{"0.0.0.0", "unspecified address"},
		{"0.1.2.3", `"this network" address`},
		{"127.0.0.1", "loopback address"},
		{"127.255.255.254", "loopback address"},
		{"10.0.0.1", "private address"},
		{"10.255.255.255", "private address"},
		{"172.16.0.1", "private address"},
		{"172.31.255.255", "private address"},
		{"192.168.1.1", "private address"},
		{"169.254.169.254", "link-local address"},
		{"100.64.0.1", "shared (carrier-grade NAT) address"},
		{"100.127.255.255", "shared (carrier-grade NAT) address"},
		{"224.0.0.1", "multicast address"},
		{"239.255.255.250", "multicast address"},
		{"255.255.255.255", "broadcast address"},
		{"240.0.0.1", "reserved address"},
		{"192.0.0.170", "reserved (IETF protocol assignment) address"},
		{"192.0.2.1", "documentation address"},
		{"198.51.100.7", "documentation address"},
		{"203.0.113.9", "documentation address"},
		{"198.18.0.1", "benchmarking address"},

		// IPv6.
		{"::", "unspecified address"},
		{"::1", "loopback address"},
		{"fc00::1", "private address"},
		{"fd12:3456:789a::1", "private address"},
		{"fe80::1", "link-local address"},
		{"fe80::1%eth0", "link-local address"},
		{"febf::1", "link-local address"},
		{"fec0::1", "private (site-local) address"},
		{"ff02::1", "multicast address"},
		{"ff05::2", "multicast address"},
		{"2001:db8::1", "documentation address"},
		{"100::1", "reserved (discard-only) address"},
		{"::127.0.0.1", "reserved (IPv4-compatible) address"},
		{"64:ff9b:1::a00:1", "private (local-use NAT64) address"},

		// IPv6 embedding IPv4.
		{"::ffff:127.0.0.1", "loopback address (IPv4-mapped)"},
		{"::ffff:10.1.2.3", "private address (IPv4-mapped)"},
		{"::ffff:169.254.169.254", "link-local address (IPv4-mapped)"},
		{"::ffff:0.0.0.0", "unspecified address (IPv4-mapped)"},
		{"64:ff9b::7f00:1", "loopback address embedded in a NAT64 address"},
		{"64:ff9b::a9fe:a9fe", "link-local address embedded in a NAT64 address"},
		{"64:ff9b::c0a8:101", "private address embedded in a NAT64 address"},
		{"2002:7f00:1::1", "loopback address embedded in a 6to4 address"},
		{"2002:a00:1::1", "private address embedded in a 6to4 address"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := CheckAddr(netip.MustParseAddr(tt.addr))
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("CheckAddr = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("CheckAddr = %v, want ErrForbiddenAddress", err)
			}
			if !strings.Contains(err.Error(), ": "+tt.reason+" (") {
				t.Errorf("CheckAddr = %q, want reason %q", err, tt.reason)
			}
		})
	}
}

func TestCheckAddrInvalid(t *testing.T) {
	if err := CheckAddr(netip.Addr{}); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("CheckAddr(zero) = %v, want ErrForbiddenAddress", err)
	}
}

func TestCheckAddrMessage(t *testing.T) {
	got := CheckAddr(netip.MustParseAddr("127.0.0.1")).Error()
	want := "sources: refusing to connect to 127.0.0.1: loopback address (allowed only for operator sources with allow_private: true)"
	if got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestGuardDialerControl(t *testing.T) {
	d := guardDialer(time.Second, guardCheckAddrPort)
	if err := d.Control("tcp4", "127.0.0.1:80", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("Control(127.0.0.1:80) = %v, want ErrForbiddenAddress", err)
	}
	if err := d.Control("tcp6", "[::1]:443", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("Control([::1]:443) = %v, want ErrForbiddenAddress", err)
	}
	if err := d.Control("tcp4", "8.8.8.8:443", nil); err != nil {
		t.Errorf("Control(8.8.8.8:443) = %v, want nil", err)
	}
	if err := d.Control("tcp", "not-an-address", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("Control(garbage) = %v, want ErrForbiddenAddress", err)
	}
	if open := guardDialer(time.Second, nil); open.Control != nil {
		t.Error("unguarded dialer has a Control hook")
	}
}

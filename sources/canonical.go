package sources

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"sort"
	"strings"
)

// trackingParams are query parameters that identify a campaign or a click,
// never the page.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "dclid": true, "gbraid": true, "wbraid": true,
	"msclkid": true, "yclid": true, "igshid": true, "mc_cid": true, "mc_eid": true,
	"_ga": true, "_gl": true, "_hsenc": true, "_hsmi": true, "mkt_tok": true,
	"ocid": true, "cmpid": true, "cmp": true, "ncid": true, "sr_share": true,
	"at_medium": true, "at_campaign": true, "at_custom1": true, "at_custom2": true,
	"at_custom3": true, "at_custom4": true, "smid": true, "s_cid": true,
}

// CanonicalURL normalizes an article URL so that the same page reached
// through different links compares equal: lower-case scheme and host,
// default ports dropped, tracking parameters (utm_*, fbclid, gclid, …) and
// the fragment removed, remaining parameters sorted, dot segments and a
// trailing slash removed. Only http and https URLs are accepted.
func CanonicalURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("sources: bad URL %q: %w", raw, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("sources: bad URL %q: want http or https", raw)
	}
	host, port := strings.TrimRight(strings.ToLower(u.Hostname()), "."), u.Port()
	if host == "" {
		return "", fmt.Errorf("sources: bad URL %q: no host", raw)
	}
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		u.Host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		u.Host = "[" + host + "]"
	} else {
		u.Host = host
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""

	if p := u.EscapedPath(); p != "" {
		cleaned := path.Clean(p)
		if cleaned == "." || cleaned == "/" {
			cleaned = ""
		}
		if unescaped, err := url.PathUnescape(cleaned); err == nil {
			u.Path, u.RawPath = unescaped, cleaned
		}
	}

	if q, err := url.ParseQuery(u.RawQuery); u.RawQuery != "" && err == nil {
		for k := range q {
			lk := strings.ToLower(k)
			if strings.HasPrefix(lk, "utm_") || trackingParams[lk] {
				delete(q, k)
			}
		}
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			vs := q[k]
			sort.Strings(vs)
			for _, v := range vs {
				if b.Len() > 0 {
					b.WriteByte('&')
				}
				b.WriteString(url.QueryEscape(k))
				if v != "" {
					b.WriteByte('=')
					b.WriteString(url.QueryEscape(v))
				}
			}
		}
		u.RawQuery = b.String()
	}
	u.ForceQuery = false
	return u.String(), nil
}

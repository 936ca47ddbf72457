// Package clientip finds the address of the client behind an HTTP request,
// for the per-IP limits of the services: the socket's peer, or, when that
// peer is a proxy the operator trusts, the last address in X-Forwarded-For
// that is not one of the trusted proxies. A client that talks to the edge
// directly cannot choose its address by sending the header.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver resolves client addresses. The zero value trusts no proxy: the
// socket's peer is always the client. It is safe for concurrent use.
type Resolver struct {
	trusted []netip.Prefix
}

// Parse builds a Resolver trusting proxies: CIDRs ("10.0.0.0/8") or single
// addresses ("192.0.2.1"); an entry that is neither is an error.
func Parse(proxies []string) (Resolver, error) {
	var r Resolver
	for _, s := range proxies {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			r.trusted = append(r.trusted, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return Resolver{}, fmt.Errorf("trusted proxy %q is neither a CIDR nor an IP address", s)
		}
		a = a.Unmap()
		r.trusted = append(r.trusted, netip.PrefixFrom(a, a.BitLen()))
	}
	return r, nil
}

// Trusts reports whether a is a trusted proxy.
func (r Resolver) Trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Of returns the client's IP for req (from req.RemoteAddr and, through
// trusted proxies only, X-Forwarded-For), and whether it came from the
// header. Walking the header from the right, each trusted proxy hands over
// to the address before it; the first untrusted address is the client. A
// malformed entry ends the walk at the last proxy that was trusted, so a
// client never gets past it with a made-up value.
func (r Resolver) Of(req *http.Request) (ip netip.Addr, forwarded bool) {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	peer = peer.Unmap()
	if !r.Trusts(peer) {
		return peer, false
	}
	var hops []string
	for _, v := range req.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		client, forwarded = a.Unmap(), true
		if !r.Trusts(client) {
			break
		}
	}
	return client, forwarded
}

// Handler serves next with the request's client address settled: the
// X-Forwarded-For header replaced by the client's IP alone and RemoteAddr
// set to it, so whatever next forwards (the REST gateway puts both into
// x-forwarded-for for the services) names the client as this Resolver
// found it and nothing a client made up. X-Forwarded-Host from an
// untrusted peer is dropped too.
func (r Resolver) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ip, forwarded := r.Of(req)
		out := req.Clone(req.Context())
		out.Header.Del("X-Forwarded-For")
		if !forwarded {
			if peer, _, err := net.SplitHostPort(req.RemoteAddr); err != nil || !r.trustsString(peer) {
				out.Header.Del("X-Forwarded-Host")
			}
		}
		if ip.IsValid() {
			out.RemoteAddr = net.JoinHostPort(ip.String(), "0")
		}
		next.ServeHTTP(w, out)
	})
}

func (r Resolver) trustsString(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && r.Trusts(a)
}

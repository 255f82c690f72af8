package devserver

import (
	"net"
	"net/http"
	"strings"
)

// LoopbackOnly refuses requests whose Host header is not the loopback
// address the listener at addr serves (127.0.0.1:<port>, localhost:<port>
// or [::1]:<port>). A page on another site that a browser is tricked into
// sending here under its own name (DNS rebinding) gets 421 and nothing
// else.
func LoopbackOnly(addr string, h http.Handler) http.Handler {
	_, port, _ := net.SplitHostPort(addr)
	allowed := map[string]bool{}
	for _, host := range []string{"127.0.0.1", "localhost", "::1"} {
		allowed[net.JoinHostPort(host, port)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[strings.ToLower(r.Host)] {
			http.Error(w, "this dev server answers only to "+addr+" (Host header refused)", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

package indicators

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
)

// maxAdded bounds the indicators one request may add.
const maxAdded = 100

// githubLoginRE is GitHub's login rule: 1-39 letters, digits or single
// inner hyphens.
var githubLoginRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}$`)

// Validate checks indicators given by a person (not extracted): at least
// one, each well formed (an email address, an IP address, a wallet whose
// checksum holds, a GitHub login). It names each bad one.
func (i Indicators) Validate() error {
	if i.Empty() {
		return errors.New("no indicators given")
	}
	var errs []error
	n := len(i.Emails) + len(i.IPs) + len(i.Wallets) + len(i.GitHubLogins) + len(i.URLs) + len(i.Repos) + len(i.Files)
	if n > maxAdded {
		errs = append(errs, fmt.Errorf("%d indicators: at most %d at a time", n, maxAdded))
	}
	for _, e := range i.Emails {
		// The form extraction finds, spanning the whole value.
		if loc := emailRE.FindStringIndex(e); loc == nil || loc[0] != 0 || loc[1] != len(e) {
			errs = append(errs, fmt.Errorf("email %q is not an email address", e))
		}
	}
	for _, ip := range i.IPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			errs = append(errs, fmt.Errorf("ip %q is not an IP address", ip))
		}
	}
	for _, w := range i.Wallets {
		if got, ok := ParseWallet(w.Address); !ok || got.Chain != w.Chain {
			errs = append(errs, fmt.Errorf("wallet %q is not a valid %s address", w.Address, w.Chain))
		}
	}
	for _, l := range i.GitHubLogins {
		if !githubLoginRE.MatchString(l) {
			errs = append(errs, fmt.Errorf("GitHub login %q is not a GitHub login", l))
		}
	}
	return errors.Join(errs...)
}

package devserver

import "testing"

// A port given on the command line (claimPort) is one FreePort does not
// hand out to another of the server's listeners afterwards, and FreePort
// never hands out one port twice.
func TestPortsNotHandedOutTwice(t *testing.T) {
	const ip = "127.0.0.1"
	lo := ephemeralLow()
	claimed := 0
	for p := lo - 1; p > lo-portSpan && claimed == 0; p-- {
		portsMu.Lock()
		given := portsGiven[p]
		portsMu.Unlock()
		if given {
			continue
		}
		if got, err := claimPort(ip, p, "test"); err == nil && got == p {
			claimed = p
		}
	}
	if claimed == 0 {
		t.Fatal("no free port below the ephemeral range to claim")
	}
	portsMu.Lock()
	marked := portsGiven[claimed]
	portsMu.Unlock()
	if !marked {
		t.Errorf("claimed port %d can still be handed out by FreePort", claimed)
	}
	seen := map[int]bool{}
	for range 200 {
		p, err := FreePort(ip)
		if err != nil {
			t.Fatal(err)
		}
		if p == claimed || seen[p] {
			t.Fatalf("FreePort handed out %d again", p)
		}
		if p < lo-portSpan || p >= lo {
			t.Fatalf("FreePort gave %d, outside [%d, %d)", p, lo-portSpan, lo)
		}
		seen[p] = true
	}
}

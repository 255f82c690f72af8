package indicators

import (
	"encoding/hex"
	"strings"
	"testing"
)

func TestParseWallet(t *testing.T) {
	valid := []struct {
		in   string
		want Wallet
	}{
		// Bitcoin wiki: P2PKH and P2SH.
		{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", Wallet{ChainBitcoin, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"}},
		{"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", Wallet{ChainBitcoin, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"}},
		// BIP-173 / BIP-350 valid segwit addresses (upper case comes back
		// lower-cased).
		{"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", Wallet{ChainBitcoin, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}},
		{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", Wallet{ChainBitcoin, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"}},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", Wallet{ChainBitcoin, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"}},
		{"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", Wallet{ChainBitcoin, "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y"}},
		{"BC1SW50QGDZ25J", Wallet{ChainBitcoin, "bc1sw50qgdz25j"}},
		{"bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", Wallet{ChainBitcoin, "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs"}},
		// EIP-55 vectors: all caps, mixed case, all lower.
		{"0x52908400098527886E0F7030069857D2E4169EE7", Wallet{ChainEthereum, "0x52908400098527886E0F7030069857D2E4169EE7"}},
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", Wallet{ChainEthereum, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}},
		{"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", Wallet{ChainEthereum, "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"}},
		{"0xde709f2102306220921060314715629080e2fb77", Wallet{ChainEthereum, "0xde709f2102306220921060314715629080e2fb77"}},
		// TRON.
		{"TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL", Wallet{ChainTron, "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"}},
	}
	for _, c := range valid {
		got, ok := ParseWallet(c.in)
		if !ok || got != c.want {
			t.Errorf("ParseWallet(%q) = %+v, %v; want %+v, true", c.in, got, ok, c.want)
		}
	}

	invalid := []struct{ in, why string }{
		{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", "P2PKH, last character changed: bad checksum"},
		{"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLz", "P2SH, last character changed: bad checksum"},
		{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNV", "P2PKH cut short"},
		{"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp", "bech32, last character changed"},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "witness v1 with a bech32 (not bech32m) checksum"},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "witness v0 with a bech32m checksum"},
		{"BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "witness v0 with a 16-byte program"},
		{"bc1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "mixed case"},
		{"tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "testnet"},
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "EIP-55: one letter's case flipped"},
		{"0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "EIP-55: first letter's case flipped"},
		{"0x52908400098527886E0F7030069857D2E4169EEG", "not hex"},
		{"TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeM", "TRON, last character changed"},
		{"TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqe", "TRON, 33 characters"},
		// Valid base58check of 0x42 and 0x06 followed by bytes 0 to 19:
		// the checksum is right but the version byte is not TRON's (0x41)
		// or P2SH's (0x05).
		{"TZJqCCFeCFdJJaGGgNhTbhcLdyjmqUrgFq", "TRON prefix, version 0x42"},
		{"3R2e7gNMbRpjEZu5DCiLWBH8siHBC8immQ", "P2SH prefix, version 0x06"},
		{"", "empty"},
	}
	for _, c := range invalid {
		if got, ok := ParseWallet(c.in); ok {
			t.Errorf("ParseWallet(%q) = %+v, true; want false (%s)", c.in, got, c.why)
		}
	}
}

// A P2PKH address re-encoded with the P2SH version byte (or the other way
// round) is a valid base58check string, but its first character gives it
// away: both must agree.
func TestBase58CheckVersion(t *testing.T) {
	if v, ok := base58Check("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"); !ok || v != 0x00 {
		t.Errorf("P2PKH version = %#x, %v; want 0x00, true", v, ok)
	}
	if v, ok := base58Check("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"); !ok || v != 0x05 {
		t.Errorf("P2SH version = %#x, %v; want 0x05, true", v, ok)
	}
	if v, ok := base58Check("TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"); !ok || v != 0x41 {
		t.Errorf("TRON version = %#x, %v; want 0x41, true", v, ok)
	}
	// The same 20 bytes (0 to 19) under TRON's and P2SH's version bytes.
	for addr, chain := range map[string]string{"T9yED5xMV5ARV98BexN97aLZ1UUq7eKSxm": ChainTron, "31h38a54tFMrR8kzBnP2241MFD2EUHtGha": ChainBitcoin} {
		if w, ok := ParseWallet(addr); !ok || w.Chain != chain {
			t.Errorf("ParseWallet(%s) = %+v, %v; want a %s wallet", addr, w, ok, chain)
		}
	}
	// A TRON address is valid base58check, but not a Bitcoin one.
	if _, ok := ParseWallet("TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"); !ok {
		t.Fatal("TRON address rejected")
	}
	if w, _ := ParseWallet("TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"); w.Chain != ChainTron {
		t.Errorf("chain = %q, want tron", w.Chain)
	}
}

func TestBase58Decode(t *testing.T) {
	for _, c := range []struct {
		in, hex string
	}{
		{"1", "00"},
		{"11", "0000"},
		{"2", "01"},
		{"z", "39"},
		{"21", "3a"},
		{"1112", "00000001"},
		{"5R", "0100"},
	} {
		b, ok := base58Decode(c.in)
		if !ok || hex.EncodeToString(b) != c.hex {
			t.Errorf("base58Decode(%q) = %x, %v; want %s", c.in, b, ok, c.hex)
		}
	}
	for _, bad := range []string{"0", "O", "I", "l", "1+"} {
		if _, ok := base58Decode(bad); ok {
			t.Errorf("base58Decode(%q) ok; want not base58", bad)
		}
	}
}

func TestKeccak256(t *testing.T) {
	// Keccak-256 with the original padding; SHA3-256("") would be
	// a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a.
	for in, want := range map[string]string{
		"":    "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
		"abc": "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45",
	} {
		if got := hex.EncodeToString(keccak256([]byte(in))); got != want {
			t.Errorf("keccak256(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestEIP55(t *testing.T) {
	for _, a := range []string{
		"52908400098527886E0F7030069857D2E4169EE7",
		"8617E340B3D01FA5F11F306F4090FD50E238070D",
		"de709f2102306220921060314715629080e2fb77",
		"27b1fdb04752bbc536007a920d24acb045561c26",
		"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"fB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
		"dbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
		"D1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
	} {
		if got := eip55(strings.ToLower(a)); got != a {
			t.Errorf("eip55(%s) = %s, want %s", strings.ToLower(a), got, a)
		}
	}
}

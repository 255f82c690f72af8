package indicators

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"golang.org/x/crypto/sha3"
)

// ParseWallet reads s as a cryptocurrency address and reports whether it
// is one whose checksum is valid: Bitcoin base58check P2PKH (1...) or P2SH
// (3...), Bitcoin bech32/bech32m (bc1...), Ethereum (0x and 40 hex digits,
// EIP-55 checksummed when mixed-case) or TRON (T..., base58check, version
// 0x41). A bech32 address comes back lower-cased; others as given.
func ParseWallet(s string) (Wallet, bool) {
	switch {
	case len(s) == 42 && (strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X")):
		if validEthereum(s) {
			return Wallet{Chain: ChainEthereum, Address: s}, true
		}
	case len(s) > 3 && strings.EqualFold(s[:3], "bc1"):
		if validBech32Segwit(s) {
			return Wallet{Chain: ChainBitcoin, Address: strings.ToLower(s)}, true
		}
	case strings.HasPrefix(s, "1"), strings.HasPrefix(s, "3"):
		if v, ok := base58Check(s); ok && (v == 0x00 && s[0] == '1' || v == 0x05 && s[0] == '3') {
			return Wallet{Chain: ChainBitcoin, Address: s}, true
		}
	case strings.HasPrefix(s, "T") && len(s) == 34:
		if v, ok := base58Check(s); ok && v == 0x41 {
			return Wallet{Chain: ChainTron, Address: s}, true
		}
	}
	return Wallet{}, false
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

var base58Index = func() [256]int8 {
	var t [256]int8
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base58Alphabet); i++ {
		t[base58Alphabet[i]] = int8(i)
	}
	return t
}()

// base58Decode decodes a base58 string (Bitcoin's alphabet); each leading
// '1' is a leading zero byte.
func base58Decode(s string) ([]byte, bool) {
	if s == "" || len(s) > 64 {
		return nil, false
	}
	var out []byte // big-endian, without the leading zeros
	for i := 0; i < len(s); i++ {
		d := base58Index[s[i]]
		if d < 0 {
			return nil, false
		}
		carry := int(d)
		for j := len(out) - 1; j >= 0; j-- {
			carry += 58 * int(out[j])
			out[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			out = append([]byte{byte(carry)}, out...)
			carry >>= 8
		}
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	return append(make([]byte, zeros), out...), true
}

// base58Check decodes a 25-byte base58check payload (a version byte, a
// 20-byte hash and a 4-byte double-SHA256 checksum) and returns its
// version byte.
func base58Check(s string) (byte, bool) {
	b, ok := base58Decode(s)
	if !ok || len(b) != 25 {
		return 0, false
	}
	h := sha256.Sum256(b[:21])
	h = sha256.Sum256(h[:])
	if !bytes.Equal(h[:4], b[21:]) {
		return 0, false
	}
	return b[0], true
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// The checksum constants of BIP-173 (bech32) and BIP-350 (bech32m).
const (
	bech32Const  = 1
	bech32mConst = 0x2bc830a3
)

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		b := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if (b>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

// validBech32Segwit reports whether s is a mainnet segwit address: hrp
// "bc", a valid bech32 (witness version 0) or bech32m (versions 1 to 16)
// checksum, and a witness program of 2 to 40 bytes (20 or 32 for version
// 0), as BIP-173 and BIP-350 define them.
func validBech32Segwit(s string) bool {
	if len(s) < 14 || len(s) > 90 {
		return false
	}
	lower, upper := strings.ToLower(s), strings.ToUpper(s)
	if s != lower && s != upper {
		return false // mixed case
	}
	s = lower
	sep := strings.LastIndexByte(s, '1')
	if sep < 1 || s[:sep] != "bc" || sep+7 > len(s) {
		return false
	}
	hrp := s[:sep]
	values := make([]byte, 0, 2*len(hrp)+1+len(s)-sep-1)
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]>>5)
	}
	values = append(values, 0)
	for i := 0; i < len(hrp); i++ {
		values = append(values, hrp[i]&31)
	}
	data := make([]byte, 0, len(s)-sep-1)
	for i := sep + 1; i < len(s); i++ {
		d := strings.IndexByte(bech32Charset, s[i])
		if d < 0 {
			return false
		}
		data = append(data, byte(d))
	}
	values = append(values, data...)
	chk := bech32Polymod(values)
	data = data[:len(data)-6] // drop the checksum
	if len(data) < 1 {
		return false
	}
	version := data[0]
	if version > 16 {
		return false
	}
	switch {
	case version == 0 && chk != bech32Const:
		return false
	case version > 0 && chk != bech32mConst:
		return false
	}
	prog, ok := convertBits(data[1:], 5, 8)
	if !ok || len(prog) < 2 || len(prog) > 40 {
		return false
	}
	if version == 0 && len(prog) != 20 && len(prog) != 32 {
		return false
	}
	return true
}

// convertBits regroups from-bit groups into to-bit groups without padding
// (the leftover bits must be fewer than from and all zero).
func convertBits(data []byte, from, to uint) ([]byte, bool) {
	var acc, bits uint
	maxv := uint(1)<<to - 1
	var out []byte
	for _, v := range data {
		if uint(v)>>from != 0 {
			return nil, false
		}
		acc = acc<<from | uint(v)
		bits += from
		for bits >= to {
			bits -= to
			out = append(out, byte(acc>>bits&maxv))
		}
	}
	if bits >= from || (acc<<(to-bits))&maxv != 0 {
		return nil, false
	}
	return out, true
}

// validEthereum reports whether s is 0x and 40 hex digits, and, when its
// letters are of mixed case, carries a valid EIP-55 checksum. All-lower
// and all-upper addresses carry no checksum and are accepted.
func validEthereum(s string) bool {
	if len(s) != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return false
	}
	h := s[2:]
	if _, err := hex.DecodeString(h); err != nil {
		return false
	}
	if h == strings.ToLower(h) || h == strings.ToUpper(h) {
		return true
	}
	return eip55(h) == h
}

// eip55 writes 40 hex digits with the EIP-55 checksum: a letter is upper
// case when the matching nibble of Keccak-256(lower-case hex) is 8 or more.
func eip55(h string) string {
	lower := strings.ToLower(h)
	hash := keccak256([]byte(lower))
	out := []byte(lower)
	for i, c := range out {
		if c < 'a' || c > 'f' {
			continue
		}
		nibble := hash[i/2] >> 4
		if i%2 == 1 {
			nibble = hash[i/2] & 0xf
		}
		if nibble >= 8 {
			out[i] = c - 'a' + 'A'
		}
	}
	return string(out)
}

// keccak256 is Keccak-256 with the original Keccak padding (as Ethereum
// uses it), not SHA3-256.
func keccak256(b []byte) []byte {
	h := sha3.NewLegacyKeccak256()
	h.Write(b)
	return h.Sum(nil)
}

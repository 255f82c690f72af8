package indicators

import (
	"bytes"
	"strings"
)

// ExtractNaming is Extract, and also finds the names in known — the
// repositories and files the person's own events name — wherever the
// message's decoded text names them, as a whole name (case-insensitive,
// not inside a longer name). A name with a '/' is a repository, any other a
// file. This finds "acme/platform" in a ransom note, which the bare
// owner/repo rule is too careful to take from text alone.
func ExtractNaming(msg []byte, known []string) (Indicators, error) {
	if len(msg) > MaxInput {
		msg = msg[:MaxInput]
	}
	if len(bytes.TrimSpace(bytes.TrimPrefix(msg, []byte(bom)))) == 0 {
		return Indicators{}, ErrEmpty
	}
	x := newExtractor()
	x.message(msg, 0)
	x.scan()
	text := strings.ToLower(strings.Join(x.texts, "\n"))
	for _, k := range known {
		if len(k) < 3 || !namedIn(text, strings.ToLower(k)) {
			continue
		}
		if strings.Contains(k, "/") {
			x.repos.add(k)
		} else {
			x.files.add(k)
		}
	}
	return x.result(), nil
}

// namedIn reports whether text holds name with no name character on
// either side (a '.' may follow: the end of a sentence, or ".git").
func namedIn(text, name string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], name)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(name)
		if (start == 0 || !nameByte(text[start-1])) && (end == len(text) || !nameByte(text[end])) {
			return true
		}
		i = start + 1
	}
}

func nameByte(c byte) bool {
	return isAlnum(c) || c == '-' || c == '_' || c == '/'
}

package cli

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// lineWidth is the widest line text output prints: it fits a 120-column
// terminal.
const lineWidth = 120

// safe makes text that came from people or vendors (reasons, names,
// errors, descriptions, records, IDs) harmless on a terminal: control
// characters and escape sequences are shown as visible escapes (ESC as
// \x1b, a newline as \n, C1 controls as \u009b, invalid UTF-8 as \xff),
// as are the bidirectional overrides and line separators that can make
// text read differently from what it is. Ordinary Unicode is kept. JSON
// output is never passed through safe: it keeps the text exact.
func safe(s string) string {
	if !needsSafe(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsSafe(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || unsafeRune(r) {
			return true
		}
		i += n
	}
	return false
}

// unsafeRune reports whether r must not reach a terminal as it is.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0: // C0, DEL, C1
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi controls
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// width is how many columns s takes.
func width(s string) int { return utf8.RuneCountInString(s) }

// pad fills s with spaces to n columns.
func pad(s string, n int) string {
	if w := width(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

// wrap breaks text into lines, the first at most first columns wide and
// the others at most rest, at spaces; a word wider than its line is cut.
func wrap(text string, first, rest int) []string {
	first, rest = max(first, 8), max(rest, 8)
	var lines []string
	var cur []rune
	limit := first
	flush := func() {
		lines = append(lines, string(cur))
		cur = cur[:0]
		limit = rest
	}
	for _, word := range strings.Split(text, " ") {
		if word == "" {
			continue
		}
		wr := []rune(word)
		if len(cur) > 0 && len(cur)+1+len(wr) > limit ||
			len(cur) == 0 && len(lines) == 0 && len(wr) > limit && len(wr) <= rest {
			// What does not fit goes on the next line, even from an
			// empty first one, rather than be cut.
			flush()
		}
		if len(cur) > 0 {
			cur = append(cur, ' ')
		}
		for len(cur)+len(wr) > limit {
			n := limit - len(cur)
			cur = append(cur, wr[:n]...)
			wr = wr[n:]
			flush()
		}
		cur = append(cur, wr...)
	}
	if len(cur) > 0 || len(lines) == 0 {
		lines = append(lines, string(cur))
	}
	return lines
}

// para prints prefix and then text (already safe), wrapped to lineWidth;
// continuation lines start at column indent.
func para(w io.Writer, prefix string, indent int, text string) {
	lines := wrap(text, lineWidth-width(prefix), lineWidth-indent)
	fmt.Fprintln(w, strings.TrimRight(prefix+lines[0], " "))
	for _, l := range lines[1:] {
		fmt.Fprintln(w, strings.Repeat(" ", indent)+l)
	}
}

// labelled prints a label at column indent and then text (already safe)
// after it, wrapped under the text's first column plus hang.
func labelled(w io.Writer, indent int, label, text string, hang int) {
	prefix := strings.Repeat(" ", indent) + label
	para(w, prefix, width(prefix)+hang, text)
}

// list prints items (already safe) after a label, one item a line, each
// wrapped with its continuation lines two columns further in.
func list(w io.Writer, indent int, label string, items []string) {
	prefix := strings.Repeat(" ", indent) + label
	for i, it := range items {
		if i > 0 {
			prefix = strings.Repeat(" ", width(prefix))
		}
		para(w, prefix, width(prefix)+2, it)
	}
}

// compact is a time in the short form a table has room for (UTC, to the
// minute).
func compact(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

// safeAll is safe of each item.
func safeAll(items []string) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = safe(s)
	}
	return out
}

package idbstore

import (
	"strings"
	"unicode/utf8"
)

// likeMatch is SQLite's default LIKE (no ESCAPE): % matches any run of
// characters, _ exactly one, ASCII letters match case-insensitively. sqlstore
// builds its "delete everything of this phone" queries from LIKE patterns
// (and even DeleteIdentity uses LIKE), so we match the same way.
func likeMatch(s, pattern string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, 0
	for sx < len(s) || px < len(pattern) {
		if px < len(pattern) {
			pc, pn := utf8.DecodeRuneInString(pattern[px:])
			switch pc {
			case '%':
				starPx, starSx = px, sx
				px += pn
				continue
			case '_':
				if sx < len(s) {
					_, sn := utf8.DecodeRuneInString(s[sx:])
					px += pn
					sx += sn
					continue
				}
			default:
				if sx < len(s) {
					_, sn := utf8.DecodeRuneInString(s[sx:])
					if likeCharEqual(pattern[px:px+pn], s[sx:sx+sn]) {
						px += pn
						sx += sn
						continue
					}
				}
			}
		}
		if starPx >= 0 && starSx < len(s) {
			_, sn := utf8.DecodeRuneInString(s[starSx:])
			starSx += sn
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	return true
}

func likeCharEqual(a, b string) bool {
	if len(a) == 1 && len(b) == 1 {
		return lowerASCII(a[0]) == lowerASCII(b[0])
	}
	return a == b
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// likeLiteralPrefix is the part of pattern before its first wildcard, if
// records matching pattern must start with exactly it (no ASCII letters,
// which LIKE folds). ok=false means any record could match.
func likeLiteralPrefix(pattern string) (lit string, ok bool) {
	i := strings.IndexAny(pattern, "%_")
	if i < 0 {
		i = len(pattern)
	}
	lit = pattern[:i]
	for j := 0; j < len(lit); j++ {
		if c := lowerASCII(lit[j]); 'a' <= c && c <= 'z' {
			return "", false
		}
	}
	return lit, true
}

// sqlReplace is SQLite's replace(x, y, z): an empty y changes nothing.
func sqlReplace(x, y, z string) string {
	if y == "" {
		return x
	}
	return strings.ReplaceAll(x, y, z)
}

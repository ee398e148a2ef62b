// SPDX-License-Identifier: EUPL-1.2

package sqlstore

import (
	"strings"
	"unicode"
)

// Fold folds s for matching: lower case, ß → ss, umlauts → ae/oe/ue, common
// accents removed, punctuation except ',' and '-' turned into spaces, runs
// of spaces collapsed. "Großenhain" → "grossenhain", "München" → "muenchen".
func Fold(s string) string { return fold(s, true) }

// FoldPlain is Fold with umlauts without e: "München" → "munchen", so that
// users who type "Munchen" find "München" too.
func FoldPlain(s string) string { return fold(s, false) }

var foldMap = map[rune]string{
	'ß': "ss", 'ẞ': "ss",
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'å': "a", 'ā': "a", 'ą': "a", 'ă': "a",
	'ç': "c", 'č': "c", 'ć': "c",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ę': "e", 'ě': "e",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i",
	'ñ': "n", 'ń': "n", 'ň': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ø': "o", 'ō': "o",
	'ù': "u", 'ú': "u", 'û': "u", 'ů': "u",
	'ý': "y", 'ÿ': "y",
	'ł': "l", 'ř': "r", 'š': "s", 'ś': "s", 'ž': "z", 'ź': "z", 'ż': "z",
	'æ': "ae", 'œ': "oe",
}

func fold(s string, withE bool) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	space := true // suppress leading spaces
	for _, r := range strings.ToLower(s) {
		var rep string
		switch r {
		case 'ä':
			rep = "a"
		case 'ö':
			rep = "o"
		case 'ü':
			rep = "u"
		}
		if rep != "" {
			b.WriteString(rep)
			if withE {
				b.WriteByte('e')
			}
			space = false
			continue
		}
		if m, ok := foldMap[r]; ok {
			b.WriteString(m)
			space = false
			continue
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == ',' || r == '-':
			b.WriteRune(r)
			space = false
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// likeEscape escapes LIKE wildcards in s for use with ESCAPE '\'.
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

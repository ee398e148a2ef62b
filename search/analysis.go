// SPDX-License-Identifier: EUPL-1.2

package search

import (
	"html"
	"strings"
	"unicode"
)

// Fold lower-cases s and folds German umlauts and ß so that spelling variants
// meet: "Führerschein", "Fuehrerschein" and "Fuhrerschein" all become
// "fuhrerschein". The digraphs ae/oe/ue are folded too (consistently on the
// index and the query side, so "Steuer" → "steur" on both).
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = unicode.ToLower(r)
		switch r {
		case 'ä', 'á', 'à', 'â':
			b.WriteByte('a')
		case 'ö', 'ó', 'ò', 'ô':
			b.WriteByte('o')
		case 'ü', 'ú', 'ù', 'û':
			b.WriteByte('u')
		case 'é', 'è', 'ê', 'ë':
			b.WriteByte('e')
		case 'í', 'ì', 'î', 'ï':
			b.WriteByte('i')
		case 'ß':
			b.WriteString("ss")
		case 'ç':
			b.WriteByte('c')
		case 'ñ':
			b.WriteByte('n')
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	if !strings.Contains(out, "ae") && !strings.Contains(out, "oe") && !strings.Contains(out, "ue") {
		return out
	}
	// ae/oe/ue stand for ä/ö/ü after a consonant or at the start of a word
	// ("Fuehrer", "Uebergabe"), not after a vowel or q ("Steuer", "Quelle").
	bs := []byte(out)
	w := 0
	var prev byte
	for i := 0; i < len(bs); i++ {
		c := bs[i]
		bs[w] = c
		w++
		if (c == 'a' || c == 'o' || c == 'u') && i+1 < len(bs) && bs[i+1] == 'e' && !isVowelOrQ(prev) {
			i++ // drop the e
		}
		prev = c
	}
	return string(bs[:w])
}

func isVowelOrQ(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y', 'q':
		return true
	}
	return false
}

// Tokens splits folded text into words: runs of letters and digits. Every
// other character (space, hyphen, slash, gender star, punctuation) separates.
func Tokens(folded string) []string {
	return strings.FieldsFunc(folded, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// StripHTML turns sanitised HTML into plain text: tags become spaces and
// entities are decoded. It is not a sanitiser; it is only used for indexing.
func StripHTML(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return html.UnescapeString(b.String())
}

// stopWords are folded German function words, question words and the
// filler verbs citizens put around the thing they are looking for
// ("Wo beantrage ich …", "Was muss ich tun, wenn …").
var stopWords = func() map[string]bool {
	list := `aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes
anderm andern anders auch auf aus bei bin bis bist da damit dann das dass dasselbe dazu dein deine deinem
deinen deiner deines dem demselben den denn denselben der derer derselbe derselben des desselben dessen
dich die dies diese dieselbe dieselben diesem diesen dieser dieses dir doch dort du durch ein eine einem
einen einer eines einig einige einigem einigen einiger einiges einmal er es etwas euch euer eure eurem
euren eurer eures fur gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr
ihre ihrem ihren ihrer ihres im in indem ins ist jede jedem jeden jeder jedes jene jenem jenen jener jenes
jetzt kann konnen konnte machen man manche manchem manchen mancher manches mein meine meinem meinen meiner
meines mich mir mit muss musste nach nicht nichts noch nun nur ob oder ohne sehr sein seine seinem seinen
seiner seines selbst sich sie sind so solche solchem solchen solcher solches soll sollte sondern sonst um
und uns unser unsere unserem unseren unserer unseres unter viel vom von vor wahrend war waren warst was
weg weil weiter welche welchem welchen welcher welches wenn werde werden wie wieder will wir wird wirst wo
wollen wollte wurde wurden zu zum zur zwar zwischen
wie wo was wann warum wieso weshalb woher wohin wer wen wem wessen welche welcher welches
beantrage beantragen beantragt brauche brauchen braucht benotige benotigen benotigt bekomme bekommen
bekommt kriege kriegen mochte mochten mussen darf durfen bitte hallo guten tag gibt geht gehen tun mache
macht erhalte erhalten finde finden kannst konnt mal denn eigentlich genau bzw usw etc ca innen
`
	m := map[string]bool{}
	for _, w := range strings.Fields(list) {
		m[w] = true
	}
	return m
}()

// IsStopWord reports whether the folded word w carries no search meaning.
func IsStopWord(w string) bool { return stopWords[w] }

// Stem is a light German stemmer for folded words (a port of the light
// stemmer of Savoy, as in Lucene's GermanLightStemmer) extended by the
// derivation suffix -ung/-ungen, so that "Anmeldung" meets "anmelden".
// Words with digits are returned unchanged.
func Stem(w string) string {
	if len(w) < 4 || strings.IndexFunc(w, unicode.IsDigit) >= 0 {
		return w
	}
	s := []byte(w)
	n := len(s)
	switch {
	case n > 7 && strings.HasSuffix(w, "ungen"):
		n -= 5
	case n > 6 && strings.HasSuffix(w, "ungs"):
		n -= 4
	case n > 5 && strings.HasSuffix(w, "ung"):
		n -= 3
	}
	n = stemStep1(s, n)
	n = stemStep2(s, n)
	return string(s[:n])
}

func stEnding(c byte) bool {
	switch c {
	case 'b', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 't':
		return true
	}
	return false
}

func stemStep1(s []byte, n int) int {
	if n > 5 && s[n-3] == 'e' && s[n-2] == 'r' && s[n-1] == 'n' {
		return n - 3
	}
	if n > 4 && s[n-2] == 'e' {
		switch s[n-1] {
		case 'm', 'n', 'r', 's':
			return n - 2
		}
	}
	if n > 3 && s[n-1] == 'e' {
		return n - 1
	}
	if n > 3 && s[n-1] == 's' && stEnding(s[n-2]) {
		return n - 1
	}
	return n
}

func stemStep2(s []byte, n int) int {
	if n > 5 && s[n-3] == 'e' && s[n-2] == 's' && s[n-1] == 't' {
		return n - 3
	}
	if n > 4 && s[n-2] == 'e' && (s[n-1] == 'r' || s[n-1] == 'n') {
		return n - 2
	}
	if n > 4 && s[n-2] == 's' && s[n-1] == 't' && stEnding(s[n-3]) {
		return n - 2
	}
	return n
}

// hasDigit reports whether w contains a digit.
func hasDigit(w string) bool {
	return strings.IndexFunc(w, unicode.IsDigit) >= 0
}

// Words folds text, splits it into words and drops stop words.
func Words(text string) []string {
	toks := Tokens(Fold(text))
	out := toks[:0]
	for _, t := range toks {
		if !stopWords[t] && (len(t) > 1 || hasDigit(t)) {
			out = append(out, t)
		}
	}
	return out
}

// leadWords is the length of a description's lead (see Lead).
const leadWords = 30

// Lead returns the first sentences of a plain-text description, at most
// about maxWords words: editors put what the service is in the first
// sentence ("Die Hundesteuer ist eine Gemeindesteuer …"), the rest is
// procedure. The cut is at the end of the sentence that crosses maxWords/2
// words, or at maxWords words.
func Lead(text string, maxWords int) string {
	words := 0
	inWord := false
	for i, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if !inWord {
				words++
				inWord = true
				if words > maxWords {
					return text[:i]
				}
			}
		default:
			inWord = false
			if (r == '.' || r == '!' || r == '?' || r == '\n') && words >= maxWords/2 {
				return text[:i]
			}
		}
	}
	return text
}

// SPDX-License-Identifier: EUPL-1.2

package fim

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// A small, fast, namespace-aware XML reader that builds a tree of elements.
// encoding/xml is correct but slow (≈20 MB/s); FIM files are plain
// data-oriented XML, so this reader supports exactly what they use: the XML
// declaration (UTF-8 only), processing instructions, comments, CDATA,
// elements, attributes, namespaces, the five predefined entities and
// character references. DOCTYPE is refused (no entity expansion, no XXE).
// Everything else that is not well-formed is an error with a byte offset.

type xattr struct {
	space, local, value string
}

type node struct {
	space, local string
	attrs        []xattr
	kids         []*node
	tb           []byte // character data directly inside (concatenated); see str
	off          int    // byte offset of the start tag
	kf           uint16 // kidFlags of local
}

// str returns the character data of the element.
func (n *node) str() string { return string(n.tb) }

// child returns the first child with the given local name.
func (n *node) child(local string) *node {
	for _, k := range n.kids {
		if k.local == local {
			return k
		}
	}
	return nil
}

// attr returns the value of an unqualified attribute.
func (n *node) attr(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.local == local && a.space == "" {
			return a.value, true
		}
	}
	return "", false
}

// syntaxError is a well-formedness error at a byte offset.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

type nsBind struct{ prefix, uri string }

type reader struct {
	data  []byte
	pos   int
	ns    []nsBind
	nodes []node  // arena
	ptrs  []*node // arena for kids slices
	stack []*node // children of the open elements
	raws  []rawAttr
	attrs []xattr // arena for node attributes
	names map[string]string
	hot   [256]hotName // direct-mapped cache in front of names
}

// kidsOf moves the children collected since mark into an exact-size slice.
func (r *reader) kidsOf(mark int) []*node {
	k := len(r.stack) - mark
	if k == 0 {
		return nil
	}
	if len(r.ptrs)+k > cap(r.ptrs) {
		r.ptrs = make([]*node, 0, max(1024, k))
	}
	start := len(r.ptrs)
	r.ptrs = append(r.ptrs, r.stack[mark:]...)
	r.stack = r.stack[:mark]
	return r.ptrs[start:len(r.ptrs):len(r.ptrs)]
}

func (r *reader) fail(off int, format string, args ...any) error {
	return &syntaxError{off: off, msg: fmt.Sprintf(format, args...)}
}

func (r *reader) intern(b []byte) string {
	s, _ := r.internName(b)
	return s
}

// internName interns b and returns the parser's child flags of the name
// (kidFlags), so that checking children needs no map lookup.
func (r *reader) internName(b []byte) (string, uint16) {
	if len(b) == 0 {
		return "", 0
	}
	h := (len(b)*31 + int(b[0])*7 + int(b[len(b)-1])*3 + int(b[len(b)/2])) & 255
	if e := &r.hot[h]; e.s == string(b) {
		return e.s, e.f
	}
	s, ok := internSeed[string(b)]
	if !ok {
		s, ok = r.names[string(b)]
	}
	if !ok {
		s = string(b)
		r.names[s] = s
	}
	f := kidFlags[s]
	r.hot[h] = hotName{s, f}
	return s, f
}

type hotName struct {
	s string
	f uint16
}

func (r *reader) newNode() *node {
	if len(r.nodes) == cap(r.nodes) {
		r.nodes = make([]node, 0, 256)
	}
	r.nodes = append(r.nodes, node{})
	return &r.nodes[len(r.nodes)-1]
}

// parseXML reads a whole document and returns its root element.
// arena is the memory of one parse: nodes, child lists and attributes. It
// is pooled, since a tree lives only during Parse; nothing of it escapes
// into the model (texts are copied out). A pooled arena may keep the
// previous input reachable until the pool is emptied by the GC.
type arena struct {
	nodes []node
	ptrs  []*node
	attrs []xattr
}

var arenaPool sync.Pool

// parseXML reads a whole document and returns its root element; call
// release when the tree is no longer used.
func parseXML(data []byte) (root *node, release func(), err error) {
	r := &reader{data: data, names: make(map[string]string, 64)}
	// One arena for all nodes: about one element per two '<'.
	want := bytes.Count(data, []byte("<"))/2 + 8
	a, _ := arenaPool.Get().(*arena)
	if a == nil || cap(a.nodes) < want {
		a = &arena{nodes: make([]node, 0, want), ptrs: make([]*node, 0, want), attrs: make([]xattr, 0, 256)}
	}
	r.nodes, r.ptrs, r.attrs = a.nodes[:0], a.ptrs[:0], a.attrs[:0]
	release = func() { arenaPool.Put(a) }
	root, err = r.document()
	if err != nil {
		release()
		return nil, func() {}, err
	}
	return root, release, nil
}

func (r *reader) document() (*node, error) {
	data := r.data
	r.ns = append(r.ns, nsBind{"xml", "http://www.w3.org/XML/1998/namespace"})
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			c, n := utf8.DecodeRune(data[off:])
			if c == utf8.RuneError && n <= 1 {
				break
			}
			off += n
		}
		return nil, r.fail(off, "ungültiges UTF-8 / invalid UTF-8")
	}
	if bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		r.pos = 3
	}
	if bytes.HasPrefix(data[r.pos:], []byte("<?xml")) {
		end := bytes.Index(data[r.pos:], []byte("?>"))
		if end < 0 {
			return nil, r.fail(r.pos, "XML-Deklaration nicht abgeschlossen / unterminated XML declaration")
		}
		decl := string(data[r.pos : r.pos+end])
		if i := strings.Index(decl, "encoding="); i >= 0 && len(decl) > i+10 {
			q := decl[i+9]
			rest := decl[i+10:]
			if j := strings.IndexByte(rest, q); j >= 0 {
				enc := strings.ToUpper(rest[:j])
				if enc != "UTF-8" && enc != "UTF8" && enc != "US-ASCII" {
					return nil, r.fail(r.pos+i, "Zeichenkodierung %q wird nicht unterstützt, nur UTF-8 / encoding %q not supported", rest[:j], rest[:j])
				}
			}
		}
		r.pos += end + 2
	}
	var root *node
	for {
		r.skipSpace()
		if r.pos >= len(data) {
			break
		}
		if data[r.pos] != '<' {
			return nil, r.fail(r.pos, "Text außerhalb des Wurzelelements / text outside the root element")
		}
		switch {
		case bytes.HasPrefix(data[r.pos:], []byte("<!--")):
			if err := r.skipComment(); err != nil {
				return nil, err
			}
		case bytes.HasPrefix(data[r.pos:], []byte("<?")):
			if err := r.skipPI(); err != nil {
				return nil, err
			}
		case bytes.HasPrefix(data[r.pos:], []byte("<!DOCTYPE")):
			return nil, r.fail(r.pos, "DOCTYPE wird nicht unterstützt / DOCTYPE not allowed")
		default:
			if root != nil {
				return nil, r.fail(r.pos, "mehr als ein Wurzelelement / more than one root element")
			}
			n, err := r.element(0)
			if err != nil {
				return nil, err
			}
			root = n
		}
	}
	if root == nil {
		return nil, r.fail(len(data), "kein Wurzelelement / no root element")
	}
	return root, nil
}

func (r *reader) skipSpace() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

func (r *reader) skipComment() error {
	start := r.pos
	end := bytes.Index(r.data[r.pos+4:], []byte("-->"))
	if end < 0 {
		return r.fail(start, "Kommentar nicht abgeschlossen / unterminated comment")
	}
	r.pos += 4 + end + 3
	return nil
}

func (r *reader) skipPI() error {
	start := r.pos
	end := bytes.Index(r.data[r.pos+2:], []byte("?>"))
	if end < 0 {
		return r.fail(start, "Verarbeitungsanweisung nicht abgeschlossen / unterminated processing instruction")
	}
	r.pos += 2 + end + 2
	return nil
}

// nameByte classifies bytes: 1 = may start a name, 2 = may continue one.
var nameByte = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':', c >= 0x80:
			t[c] = 3
		case c >= '0' && c <= '9', c == '-', c == '.':
			t[c] = 2
		}
	}
	return t
}()

func isNameByte(c byte, first bool) bool {
	if first {
		return nameByte[c]&1 != 0
	}
	return nameByte[c]&2 != 0
}

func (r *reader) name() ([]byte, error) {
	start := r.pos
	if r.pos >= len(r.data) || !isNameByte(r.data[r.pos], true) {
		return nil, r.fail(r.pos, "Name erwartet / name expected")
	}
	r.pos++
	for r.pos < len(r.data) && nameByte[r.data[r.pos]]&2 != 0 {
		r.pos++
	}
	return r.data[start:r.pos], nil
}

func (r *reader) resolve(prefix []byte, off int, attr bool) (string, error) {
	if len(prefix) == 0 && attr {
		return "", nil
	}
	for i := len(r.ns) - 1; i >= 0; i-- {
		if r.ns[i].prefix == string(prefix) {
			return r.ns[i].uri, nil
		}
	}
	if len(prefix) == 0 {
		return "", nil
	}
	return "", r.fail(off, "Namensraum-Präfix %q nicht deklariert / undeclared namespace prefix %q", prefix, prefix)
}

type rawAttr struct {
	prefix []byte
	local  string
	value  string
	off    int
}

func splitQName(b []byte) (prefix, local []byte) {
	if i := bytes.IndexByte(b, ':'); i >= 0 {
		return b[:i], b[i+1:]
	}
	return nil, b
}

const maxDepth = 256

// element reads an element starting at '<' and returns it.
func (r *reader) element(depth int) (*node, error) {
	if depth > maxDepth {
		return nil, r.fail(r.pos, "zu tief verschachtelt / nesting too deep")
	}
	start := r.pos
	r.pos++ // '<'
	qn, err := r.name()
	if err != nil {
		return nil, err
	}
	nsMark := len(r.ns)
	raws := r.raws[:0]
	selfClose := false
	for {
		sp := r.pos
		r.skipSpace()
		if r.pos >= len(r.data) {
			return nil, r.fail(start, "Start-Tag nicht abgeschlossen / unterminated start tag")
		}
		c := r.data[r.pos]
		if c == '>' {
			r.pos++
			break
		}
		if c == '/' {
			if r.pos+1 >= len(r.data) || r.data[r.pos+1] != '>' {
				return nil, r.fail(r.pos, "'>' erwartet nach '/' / expected '>' after '/'")
			}
			r.pos += 2
			selfClose = true
			break
		}
		if sp == r.pos {
			return nil, r.fail(r.pos, "Leerraum vor Attribut erwartet / whitespace expected before attribute")
		}
		aoff := r.pos
		an, err := r.name()
		if err != nil {
			return nil, err
		}
		r.skipSpace()
		if r.pos >= len(r.data) || r.data[r.pos] != '=' {
			return nil, r.fail(r.pos, "'=' erwartet nach Attribut %s / expected '=' after attribute", an)
		}
		r.pos++
		r.skipSpace()
		if r.pos >= len(r.data) || (r.data[r.pos] != '"' && r.data[r.pos] != '\'') {
			return nil, r.fail(r.pos, "Attributwert muss in Anführungszeichen stehen / attribute value must be quoted")
		}
		q := r.data[r.pos]
		r.pos++
		vs := r.pos
		end := bytes.IndexByte(r.data[vs:], q)
		if end < 0 {
			return nil, r.fail(vs-1, "Attributwert nicht abgeschlossen / unterminated attribute value")
		}
		raw := r.data[vs : vs+end]
		if i := bytes.IndexByte(raw, '<'); i >= 0 {
			return nil, r.fail(vs+i, "'<' in Attributwert / '<' in attribute value")
		}
		val, err := r.unescape(raw, vs, true)
		if err != nil {
			return nil, err
		}
		r.pos = vs + end + 1
		p, l := splitQName(an)
		for _, o := range raws {
			if string(o.prefix) == string(p) && o.local == string(l) {
				return nil, r.fail(aoff, "Attribut %s doppelt / duplicate attribute", an)
			}
		}
		switch {
		case p == nil && string(l) == "xmlns":
			r.ns = append(r.ns, nsBind{"", val})
		case string(p) == "xmlns":
			if val == "" {
				return nil, r.fail(aoff, "leere Namensraum-Bindung / empty namespace binding")
			}
			r.ns = append(r.ns, nsBind{r.intern(l), val})
		default:
			raws = append(raws, rawAttr{prefix: p, local: r.intern(l), value: val, off: aoff})
		}
	}
	n := r.newNode()
	n.off = start
	p, l := splitQName(qn)
	if len(l) == 0 {
		return nil, r.fail(start+1, "ungültiger Name %q / invalid name", qn)
	}
	n.local, n.kf = r.internName(l)
	n.space, err = r.resolve(p, start+1, false)
	if err != nil {
		return nil, err
	}
	if len(raws) > 0 {
		if len(r.attrs)+len(raws) > cap(r.attrs) {
			r.attrs = make([]xattr, 0, max(256, len(raws)))
		}
		a0 := len(r.attrs)
		r.attrs = r.attrs[:a0+len(raws)]
		n.attrs = r.attrs[a0 : a0+len(raws) : a0+len(raws)]
		for i, a := range raws {
			sp, err := r.resolve(a.prefix, a.off, true)
			if err != nil {
				return nil, err
			}
			n.attrs[i] = xattr{space: sp, local: a.local, value: a.value}
		}
	}
	r.raws = raws[:0]
	if selfClose {
		r.ns = r.ns[:nsMark]
		return n, nil
	}
	// Content. The text of a leaf is usually one plain run: it is kept as
	// a slice of the input and decoded only when it has references or CRs.
	// Whitespace between child elements is dropped without decoding.
	t := textAcc{rawStart: -1}
	allWS := true
	kidMark := len(r.stack)
	for {
		lt := bytes.IndexByte(r.data[r.pos:], '<')
		if lt < 0 {
			return nil, r.fail(start, "Element <%s> nicht geschlossen / element not closed", qn)
		}
		if lt > 0 {
			seg := r.data[r.pos : r.pos+lt]
			cls := scanText(seg)
			if cls&textBad != 0 {
				return nil, checkChars(r, seg, r.pos)
			}
			ws := allWS && cls&textNonSpace == 0
			if !ws {
				allWS = false
			}
			if ws && (t.rawStart >= 0 || t.materialized) {
				// more indentation between children: dropped (FIM has no
				// mixed content)
			} else if !t.materialized && t.rawStart < 0 {
				t.rawStart, t.rawEnd = r.pos, r.pos+lt
			} else {
				if err := t.flush(r); err != nil {
					return nil, err
				}
				var err error
				if t.buf, err = r.unescapeAppend(t.buf, seg, r.pos, false); err != nil {
					return nil, err
				}
			}
			r.pos += lt
		}
		rest := r.data[r.pos:]
		switch {
		case bytes.HasPrefix(rest, []byte("</")):
			r.pos += 2
			if end := r.pos + len(qn); end < len(r.data) && bytes.Equal(r.data[r.pos:end], qn) && nameByte[r.data[end]]&2 == 0 {
				r.pos = end // fast path: the expected name
			} else {
				en, err := r.name()
				if err != nil {
					return nil, err
				}
				if !bytes.Equal(en, qn) {
					return nil, r.fail(r.pos-len(en)-2, "End-Tag </%s> passt nicht zu <%s> / end tag does not match start tag", en, qn)
				}
			}
			r.skipSpace()
			if r.pos >= len(r.data) || r.data[r.pos] != '>' {
				return nil, r.fail(r.pos, "'>' erwartet / expected '>'")
			}
			r.pos++
			n.kids = r.kidsOf(kidMark)
			switch {
			case len(n.kids) > 0 && allWS:
				// indentation between children
			case t.materialized:
				if err := t.flush(r); err != nil {
					return nil, err
				}
				n.tb = t.buf
			case t.rawStart >= 0:
				seg := r.data[t.rawStart:t.rawEnd:t.rawEnd]
				if bytes.IndexByte(seg, '&') >= 0 || bytes.IndexByte(seg, '\r') >= 0 {
					if n.tb, err = r.unescapeAppend(make([]byte, 0, len(seg)), seg, t.rawStart, false); err != nil {
						return nil, err
					}
				} else {
					n.tb = seg
				}
			}
			r.ns = r.ns[:nsMark]
			return n, nil
		case bytes.HasPrefix(rest, []byte("<!--")):
			if err := r.skipComment(); err != nil {
				return nil, err
			}
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end := bytes.Index(rest[9:], []byte("]]>"))
			if end < 0 {
				return nil, r.fail(r.pos, "CDATA nicht abgeschlossen / unterminated CDATA")
			}
			if err := checkChars(r, rest[9:9+end], r.pos+9); err != nil {
				return nil, err
			}
			allWS = false
			if err := t.flush(r); err != nil {
				return nil, err
			}
			t.buf = append(t.buf, rest[9:9+end]...)
			r.pos += 9 + end + 3
		case bytes.HasPrefix(rest, []byte("<?")):
			if err := r.skipPI(); err != nil {
				return nil, err
			}
		case bytes.HasPrefix(rest, []byte("<!")):
			return nil, r.fail(r.pos, "unerwartete Deklaration / unexpected markup declaration")
		default:
			k, err := r.element(depth + 1)
			if err != nil {
				return nil, err
			}
			r.stack = append(r.stack, k)
		}
	}
}

// textAcc accumulates the character data of one element (see element).
type textAcc struct {
	buf              []byte
	rawStart, rawEnd int // first text run, not yet decoded
	materialized     bool
}

// flush decodes the pending raw run into buf.
func (t *textAcc) flush(r *reader) error {
	if t.rawStart >= 0 {
		var err error
		if t.buf, err = r.unescapeAppend(t.buf, r.data[t.rawStart:t.rawEnd], t.rawStart, false); err != nil {
			return err
		}
		t.rawStart = -1
	}
	t.materialized = true
	return nil
}

// Character classes for scanText.
const (
	textNonSpace = 1 << iota // a byte other than space, tab, CR, LF
	textBad                  // a control character XML does not allow
)

var textClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c < 0x20:
			t[c] = textNonSpace | textBad
		default:
			t[c] = textNonSpace
		}
	}
	return t
}()

// scanText ORs the classes of the bytes of b (one pass for both checks).
func scanText(b []byte) uint8 {
	var acc uint8
	for _, c := range b {
		acc |= textClass[c]
	}
	return acc
}

func checkChars(r *reader, b []byte, off int) error {
	for i, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return r.fail(off+i, "unzulässiges Steuerzeichen / invalid control character")
		}
	}
	return nil
}

// unescape resolves references in an attribute value.
func (r *reader) unescape(b []byte, off int, attr bool) (string, error) {
	if err := checkChars(r, b, off); err != nil {
		return "", err
	}
	if bytes.IndexByte(b, '&') < 0 && bytes.IndexByte(b, '\r') < 0 {
		if attr && bytes.ContainsAny(b, "\t\n") {
			return normAttrSpace(string(b)), nil
		}
		if attr && len(b) <= 64 {
			return r.intern(b), nil // listURI, listVersionID, … repeat
		}
		return string(b), nil
	}
	out, err := r.unescapeAppend(make([]byte, 0, len(b)), b, off, attr)
	return string(out), err
}

// unescapeAppend appends b to dst with entity and character references
// resolved and line ends normalised (CR LF and lone CR become LF; in
// attributes, tabs and line ends become spaces).
func (r *reader) unescapeAppend(dst, b []byte, off int, attr bool) ([]byte, error) {
	for i := 0; i < len(b); {
		c := b[i]
		if c != '&' {
			if c == '\r' {
				if i+1 < len(b) && b[i+1] == '\n' {
					i++
					continue
				}
				c = '\n'
			}
			if attr && (c == '\t' || c == '\n') {
				c = ' '
			}
			dst = append(dst, c)
			i++
			continue
		}
		semi := bytes.IndexByte(b[i:], ';')
		if semi < 0 || semi > 12 {
			return dst, r.fail(off+i, "'&' ohne Entität / '&' without entity reference")
		}
		ent := b[i+1 : i+semi]
		switch string(ent) {
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "amp":
			dst = append(dst, '&')
		case "quot":
			dst = append(dst, '"')
		case "apos":
			dst = append(dst, '\'')
		default:
			if len(ent) < 2 || ent[0] != '#' {
				return dst, r.fail(off+i, "unbekannte Entität &%s; / unknown entity", ent)
			}
			var v uint64
			var err error
			if ent[1] == 'x' {
				v, err = strconv.ParseUint(string(ent[2:]), 16, 32)
			} else {
				v, err = strconv.ParseUint(string(ent[1:]), 10, 32)
			}
			ch := rune(v)
			if err != nil || !validXMLChar(ch) {
				return dst, r.fail(off+i, "ungültige Zeichenreferenz &%s; / invalid character reference", ent)
			}
			dst = utf8.AppendRune(dst, ch)
		}
		i += semi + 1
	}
	return dst, nil
}

func normAttrSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

func validXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// lineCol returns the 1-based line and column (in characters) of a byte offset.
func lineCol(data []byte, off int) (int, int) {
	if off > len(data) {
		off = len(data)
	}
	if off < 0 {
		off = 0
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	ls := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, utf8.RuneCount(data[ls:off]) + 1
}

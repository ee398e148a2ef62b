// SPDX-License-Identifier: EUPL-1.2

// Package fim reads FIM form schemas — XDatenfelder 2.0
// (urn:xoev-de:fim:standard:xdatenfelder_2) and 3.0.0
// (urn:xoev-de:fim:standard:xdatenfelder_3.0.0), Stammdatenschema and
// Datenfeldgruppe messages — and OASIS genericode 1.0 code lists into a
// form.Model. It matches elements by namespace URI and local name, never by
// prefix; the children of code-typed elements are the unqualified <code>.
//
// Parse and ParseCodeList are pure (no I/O beyond their input). LoadFile and
// LoadDir read a schema and the genericode files next to it, as a FIM
// export ships them. XDatenfelder 1 is refused. Unknown elements, unknown
// code values, legacy Präzisierung texts, uncompilable patterns, missing
// code lists and rules whose text is not recognised become warnings;
// malformed XML and broken identities are errors with file, line and
// column. Rule scripts are kept as text and never executed.
package fim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"rathaus"
	"rathaus/form"
)

// Namespaces.
const (
	NSXDF1       = "urn:xoev-de:fim:standard:xdatenfelder_1"
	NSXDF2       = "urn:xoev-de:fim:standard:xdatenfelder_2"
	NSXDF3       = "urn:xoev-de:fim:standard:xdatenfelder_3.0.0"
	NSGenericode = "http://docs.oasis-open.org/codelist/ns/genericode/1.0/"
)

// Options tune Parse.
type Options struct {
	// Name is the file name used in errors and warnings.
	Name string
	// CodeLists are raw genericode files, keyed by anything (file name or
	// canonical version URI); they are matched to the schema's references
	// by canonicalVersionUri, else canonicalIdentification + version.
	CodeLists map[string][]byte
	// Resolve, when set, is asked for references CodeLists does not
	// satisfy; return nil, nil for "not found".
	Resolve func(ref form.CodeListRef) (*form.CodeList, error)
}

// Parse reads one XDatenfelder 2.0 or 3.0.0 message.
func Parse(data []byte, opts Options) (*form.Model, error) {
	name := opts.Name
	if name == "" {
		name = "schema.xml"
	}
	root, release, err := parseXML(data)
	if err != nil {
		return nil, syntaxErr(name, data, err)
	}
	defer release()
	p := &parser{name: name, data: data, warned: map[string]bool{}}
	switch root.space {
	case NSXDF1:
		return nil, rathaus.Errorf(rathaus.EINVALID, "%s: XDatenfelder 1 wird nicht unterstützt; bitte als XDatenfelder 2.0 oder 3.0.0 exportieren (XDatenfelder 1 is not supported, re-export as 2.0/3.0)", name)
	case NSXDF2:
		p.format = form.FormatXDF2
	case NSXDF3:
		p.format = form.FormatXDF3
	case NSGenericode:
		return nil, p.errAt(root, "dies ist eine genericode-Codeliste, kein Datenschema (this is a genericode code list, not a schema)")
	default:
		if strings.HasPrefix(root.local, "xdatenfelder.") {
			return nil, p.errAt(root, "unbekannter Namensraum %q für <%s> (erwartet %s oder %s)", root.space, root.local, NSXDF2, NSXDF3)
		}
		return nil, p.errAt(root, "keine XDatenfelder-Nachricht: Wurzelelement <%s> im Namensraum %q (not an XDatenfelder message)", root.local, root.space)
	}
	p.ns = root.space
	m := &form.Model{Format: p.format}
	switch root.local {
	case "xdatenfelder.stammdatenschema.0102":
		s := p.kid(root, "stammdatenschema")
		if s == nil {
			return nil, p.errAt(root, "<stammdatenschema> fehlt (missing)")
		}
		if err := p.schema(m, s); err != nil {
			return nil, err
		}
	case "xdatenfelder.datenfeldgruppe.0103":
		g := p.kid(root, "datenfeldgruppe")
		if g == nil {
			return nil, p.errAt(root, "<datenfeldgruppe> fehlt (missing)")
		}
		it, err := p.item(g, form.KindGroup)
		if err != nil {
			return nil, err
		}
		m.ID, m.Version, m.Name, m.Title, m.Help, m.Status = it.ID, it.Version, it.Name, it.Label, it.Help, it.Status
		m.Root = it.Items
		for i := range it.Rules {
			it.Rules[i].Owner = m.ID
		}
		p.rootRules = it.Rules
	default:
		return nil, p.errAt(root, "Nachrichtentyp <%s> wird nicht unterstützt; erwartet xdatenfelder.stammdatenschema.0102 oder xdatenfelder.datenfeldgruppe.0103 (message type not supported)", root.local)
	}
	if m.Title == "" {
		m.Title = m.Name
	}
	for _, k := range root.kids {
		if k.local != "header" && k.local != "stammdatenschema" && k.local != "datenfeldgruppe" {
			p.warn(k, "unbekanntes Element <%s> in <%s> wird ignoriert", k.local, root.local)
		}
	}
	p.finishRules(m)
	p.codeLists(m, opts)
	m.Warnings = p.warnings
	return m, nil
}

func syntaxErr(name string, data []byte, err error) error {
	if se, ok := err.(*syntaxError); ok {
		line, col := lineCol(data, se.off)
		return rathaus.Errorf(rathaus.EINVALID, "%s:%d:%d: XML fehlerhaft: %s", name, line, col, se.msg)
	}
	return rathaus.Wrap(rathaus.EINVALID, err, "%s: XML fehlerhaft", name)
}

type parser struct {
	name      string
	data      []byte
	ns        string
	format    string
	warnings  []string
	warned    map[string]bool
	rootRules []form.Rule
	lines     []int // line start offsets, see pos
	// Reused elements are inlined many times: cache the costly parts.
	jsonPraez map[string]map[string]any
	strs      map[string]string
	// first node of each rule (id:version) and code list reference (key),
	// for the positions of warnings issued after the tree is built
	at map[string]*node
}

func (p *parser) pos(n *node) string {
	if p.lines == nil {
		// Offsets of line starts, built once: warnings are many in bad files.
		p.lines = make([]int, 1, bytes.Count(p.data, []byte("\n"))+1)
		for i := 0; ; {
			j := bytes.IndexByte(p.data[i:], '\n')
			if j < 0 {
				break
			}
			i += j + 1
			p.lines = append(p.lines, i)
		}
	}
	off := min(n.off, len(p.data))
	i := sort.SearchInts(p.lines, off+1) - 1
	col := utf8.RuneCount(p.data[p.lines[i]:off]) + 1
	return fmt.Sprintf("%s:%d:%d", p.name, i+1, col)
}

func (p *parser) errAt(n *node, format string, args ...any) error {
	return rathaus.Errorf(rathaus.EINVALID, "%s: %s", p.pos(n), fmt.Sprintf(format, args...))
}

// warn records a warning once per distinct text (reused elements are
// inlined many times); the position of the first occurrence is kept.
func (p *parser) warn(n *node, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p.warned[msg] {
		return
	}
	p.warned[msg] = true
	if n != nil {
		msg = p.pos(n) + ": " + msg
	} else {
		msg = p.name + ": " + msg
	}
	p.warnings = append(p.warnings, msg)
}

// kid returns the first child in the message namespace with the local name.
func (p *parser) kid(n *node, local string) *node {
	for _, k := range n.kids {
		if k.local == local && k.space == p.ns {
			return k
		}
	}
	return nil
}

func (p *parser) kids(n *node, local string) []*node {
	var out []*node
	for _, k := range n.kids {
		if k.local == local && k.space == p.ns {
			out = append(out, k)
		}
	}
	return out
}

func (p *parser) text(n *node, local string) string {
	if k := p.kid(n, local); k != nil {
		return clean(p.str(k))
	}
	return ""
}

// str returns the trimmed text of n; short texts are interned, since
// inlined elements repeat the same ids, versions, codes and labels.
func (p *parser) str(n *node) string {
	b := bytes.TrimSpace(n.tb)
	if len(b) > 48 {
		return string(b)
	}
	if s, ok := p.strs[string(b)]; ok {
		return s
	}
	if p.strs == nil {
		p.strs = map[string]string{}
	}
	s := string(b)
	p.strs[s] = s
	return s
}

// remember keeps the first node seen under key (see parser.at).
func (p *parser) remember(key string, n *node) {
	if p.at == nil {
		p.at = map[string]*node{}
	}
	if _, ok := p.at[key]; !ok {
		p.at[key] = n
	}
}

// clean trims and normalises line breaks (&#xD; in real files).
func clean(s string) string {
	s = strings.TrimSpace(s)
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	return s
}

// code returns the value of a code-typed element: the text of its
// unqualified <code> child (any namespace tolerated), else its own text.
func (p *parser) code(n *node, local string) string {
	k := p.kid(n, local)
	if k == nil {
		return ""
	}
	for _, c := range k.kids {
		if c.local == "code" {
			return p.str(c)
		}
	}
	return p.str(k)
}

// Which children each element kind knows, as bit flags per local name (one
// map lookup per child).
const (
	kCommon uint16 = 1 << iota
	kSchema
	kGroup
	kField
	kRule
	kStruktur
	kSingle    // at most once
	kReqSingle // duplicates are errors (identity-bearing)
)

var kidFlags = func() map[string]uint16 {
	m := map[string]uint16{}
	add := func(f uint16, names ...string) {
		for _, n := range names {
			m[n] |= f
		}
	}
	add(kCommon, "identifikation", "name", "bezeichnungEingabe", "bezeichnungAusgabe", "beschreibung",
		"definition", "bezug", "status", "fachlicherErsteller", "versionshinweis", "freigabedatum",
		"veroeffentlichungsdatum", "schemaelementart", "hilfetextEingabe", "hilfetextAusgabe", "gueltigAb",
		"gueltigBis", "freigabestatus", "statusGesetztAm", "statusGesetztDurch", "letzteAenderung", "relation",
		"stichwort", "regel")
	add(kSchema, "hilfetext", "ableitungsmodifikationenStruktur", "ableitungsmodifikationenRepraesentation",
		"struktur", "bezeichnung", "dokumentsteckbrief")
	add(kGroup, "struktur", "art")
	add(kField, "feldart", "datentyp", "praezisierung", "inhalt", "codelisteReferenz", "vorbefuellung",
		"werte", "codeKey", "nameKey", "helpKey", "maxSize", "mediaType")
	add(kRule, "identifikation", "name", "bezeichnungEingabe", "bezeichnungAusgabe", "beschreibung",
		"definition", "bezug", "status", "fachlicherErsteller", "versionshinweis", "freigabedatum",
		"veroeffentlichungsdatum", "script", "freitextRegel", "skript", "typ", "letzteAenderung", "stichwort",
		"param", "ziel", "fehler", "freigabestatus", "statusGesetztAm", "statusGesetztDurch", "gueltigAb",
		"gueltigBis", "relation")
	add(kStruktur, "anzahl", "bezug", "enthaelt")
	add(kSingle, "identifikation", "name", "bezeichnungEingabe", "bezeichnungAusgabe", "beschreibung",
		"definition", "status", "fachlicherErsteller", "versionshinweis", "freigabedatum",
		"veroeffentlichungsdatum", "schemaelementart", "hilfetextEingabe", "hilfetextAusgabe", "feldart",
		"datentyp", "praezisierung", "codelisteReferenz", "vorbefuellung", "freigabestatus", "hilfetext",
		"bezeichnung", "letzteAenderung")
	add(kReqSingle, "identifikation", "name")
	return m
}()

// internSeed seeds the reader's name interning with the names the parser
// looks for, so that the interned names share their bytes with the
// parser's string constants and compare by pointer.
var internSeed = func() map[string]string {
	m := map[string]string{}
	for k := range kidFlags {
		m[k] = k
	}
	for _, k := range []string{"header", "stammdatenschema", "datenfeldgruppe", "datenfeld", "code", "id",
		"version", "genericodeIdentification", "canonicalIdentification", "canonicalVersionUri", "wert",
		"hilfe", "CodeList", "Identification", "ShortName", "LongName", "Version", "CanonicalUri",
		"CanonicalVersionUri", "ColumnSet", "Column", "Key", "ColumnRef", "SimpleCodeList", "Row", "Value",
		"SimpleValue", "Id", "Ref", "listURI", "listVersionID", "minLength", "maxLength", "minValue",
		"maxValue", "pattern", "xdatenfelder.stammdatenschema.0102", "xdatenfelder.datenfeldgruppe.0103",
		"nachrichtID", "erstellungszeitpunkt", NSXDF1, NSXDF2, NSXDF3, NSGenericode} {
		m[k] = k
	}
	return m
}()

func set(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// checkKids warns about unknown children and duplicates; allowed is a
// union of k* kinds.
func (p *parser) checkKids(n *node, what string, allowed uint16) error {
	var seenBuf [24]string
	seen := seenBuf[:0]
	for _, k := range n.kids {
		if k.space != p.ns {
			p.warn(k, "Element <%s> aus fremdem Namensraum %q in %s wird ignoriert (foreign element ignored)", k.local, k.space, what)
			continue
		}
		f := k.kf
		if f&allowed == 0 {
			p.warn(k, "unbekanntes Element <%s> in %s wird ignoriert (unknown element ignored)", k.local, what)
			continue
		}
		if f&kSingle != 0 && allowed != kStruktur {
			if slices.Contains(seen, k.local) {
				if f&kReqSingle != 0 {
					return p.errAt(k, "Element <%s> doppelt in %s (duplicate element)", k.local, what)
				}
				p.warn(k, "Element <%s> doppelt in %s, der erste Wert gilt (duplicate, first wins)", k.local, what)
			}
			seen = append(seen, k.local)
		}
	}
	return nil
}

// ident reads identifikation: id required and non-empty, version optional.
func (p *parser) ident(n *node, what string) (id, version string, err error) {
	idn := p.kid(n, "identifikation")
	if idn == nil {
		return "", "", p.errAt(n, "<identifikation> fehlt in %s (missing identification)", what)
	}
	ids := p.kids(idn, "id")
	switch {
	case len(ids) == 0:
		return "", "", p.errAt(idn, "<id> fehlt in der Identifikation von %s (missing id)", what)
	case len(ids) > 1:
		return "", "", p.errAt(ids[1], "<id> doppelt in der Identifikation von %s (duplicate id)", what)
	}
	id = p.str(ids[0])
	if id == "" {
		return "", "", p.errAt(ids[0], "<id> ist leer in %s (empty id)", what)
	}
	vs := p.kids(idn, "version")
	if len(vs) > 1 {
		return "", "", p.errAt(vs[1], "<version> doppelt bei %s (duplicate version)", id)
	}
	if len(vs) == 1 {
		version = p.str(vs[0])
	}
	for _, k := range idn.kids {
		if k.space != p.ns || (k.local != "id" && k.local != "version") {
			p.warn(k, "unbekanntes Element <%s> in der Identifikation von %s wird ignoriert (unknown element ignored)", k.local, id)
		}
	}
	return id, version, nil
}

var statusV2 = set("aktiv", "inaktiv", "inVorbereitung")

func (p *parser) status(n *node, id string) string {
	if p.format == form.FormatXDF2 {
		s := p.code(n, "status")
		if s != "" && !statusV2[s] {
			p.warn(p.kid(n, "status"), "unbekannter Status %q bei %s (unknown status)", s, id)
		}
		return s
	}
	s := p.code(n, "freigabestatus")
	if s == "" {
		return ""
	}
	if v, err := strconv.Atoi(s); err != nil || v < 1 || v > 8 {
		p.warn(p.kid(n, "freigabestatus"), "ungültiger Freigabestatus %q bei %s (erlaubt 1–8; invalid release status)", s, id)
	}
	return s
}

func (p *parser) schema(m *form.Model, s *node) error {
	id, version, err := p.ident(s, "<stammdatenschema>")
	if err != nil {
		return err
	}
	what := "Stammdatenschema " + id
	if err := p.checkKids(s, what, kCommon|kSchema); err != nil {
		return err
	}
	m.ID, m.Version = id, version
	m.Name = p.text(s, "name")
	m.Title = p.text(s, "bezeichnungEingabe")
	if t := p.text(s, "bezeichnung"); t != "" {
		m.Title = t
	}
	m.Help = p.text(s, "hilfetext")
	m.Status = p.status(s, id)
	for _, r := range p.kids(s, "regel") {
		rule, err := p.rule(r, id)
		if err != nil {
			return err
		}
		p.rootRules = append(p.rootRules, rule)
	}
	items, err := p.structure(s, what)
	if err != nil {
		return err
	}
	m.Root = items
	p.checkScope(p.rootRules, items)
	for i := range m.Root {
		if m.Root[i].Kind == form.KindField {
			p.checkScope(m.Root[i].Rules, m.Root)
		}
	}
	if len(items) == 0 {
		p.warn(s, "%s enthält keine Elemente (no struktur)", what)
	}
	return nil
}

func (p *parser) structure(n *node, what string) ([]form.Item, error) {
	strukturen := p.kids(n, "struktur")
	items := make([]form.Item, 0, len(strukturen))
	for _, st := range strukturen {
		if err := p.checkKids(st, what, kStruktur); err != nil {
			return nil, err
		}
		minN, maxN, err := p.anzahl(st)
		if err != nil {
			return nil, err
		}
		e := p.kid(st, "enthaelt")
		if e == nil {
			p.warn(st, "<struktur> ohne <enthaelt> in %s wird ignoriert", what)
			continue
		}
		found := 0
		for _, k := range e.kids {
			var kind form.Kind
			switch {
			case k.space == p.ns && k.local == "datenfeldgruppe":
				kind = form.KindGroup
			case k.space == p.ns && k.local == "datenfeld":
				kind = form.KindField
			default:
				p.warn(k, "unbekanntes Element <%s> in <enthaelt> von %s wird ignoriert", k.local, what)
				continue
			}
			found++
			if found > 1 {
				p.warn(k, "<enthaelt> in %s enthält mehr als ein Element; alle werden übernommen", what)
			}
			it, err := p.item(k, kind)
			if err != nil {
				return nil, err
			}
			it.Min, it.Max = minN, maxN
			items = append(items, it)
		}
		if found == 0 {
			p.warn(e, "leeres <enthaelt> in %s wird ignoriert", what)
		}
	}
	return items, nil
}

func (p *parser) anzahl(st *node) (int, int, error) {
	a := p.kid(st, "anzahl")
	if a == nil {
		p.warn(st, "<anzahl> fehlt, 1:1 angenommen (missing multiplicity, 1:1 assumed)")
		return 1, 1, nil
	}
	s := p.str(a)
	lo, hi, ok := strings.Cut(s, ":")
	minN, err1 := strconv.Atoi(lo)
	maxN, err2 := strconv.Atoi(hi)
	if hi == "*" || hi == "n" {
		maxN, err2 = -1, nil
	}
	if !ok || err1 != nil || err2 != nil || minN < 0 || (maxN != -1 && (maxN < minN || maxN == 0)) {
		return 0, 0, p.errAt(a, "ungültige Anzahl %q, erwartet min:max (invalid multiplicity, expected min:max)", s)
	}
	return minN, maxN, nil
}

func (p *parser) item(n *node, kind form.Kind) (form.Item, error) {
	what := "<datenfeld>"
	if kind == form.KindGroup {
		what = "<datenfeldgruppe>"
	}
	id, version, err := p.ident(n, what)
	if err != nil {
		return form.Item{}, err
	}
	what = "Datenfeld " + id
	extra := kField
	if kind == form.KindGroup {
		what = "Datenfeldgruppe " + id
		extra = kGroup
	}
	if err := p.checkKids(n, what, kCommon|extra); err != nil {
		return form.Item{}, err
	}
	it := form.Item{
		Kind: kind, ID: id, Version: version,
		Name:        p.text(n, "name"),
		Label:       p.text(n, "bezeichnungEingabe"),
		OutputLabel: p.text(n, "bezeichnungAusgabe"),
		Help:        p.text(n, "hilfetextEingabe"),
		LegalBasis:  p.text(n, "bezug"),
		Status:      p.status(n, id),
		Min:         1, Max: 1,
	}
	if it.Label == "" {
		it.Label = it.Name
	}
	for _, r := range p.kids(n, "regel") {
		rule, err := p.rule(r, id)
		if err != nil {
			return form.Item{}, err
		}
		it.Rules = append(it.Rules, rule)
	}
	if kind == form.KindGroup {
		items, err := p.structure(n, what)
		if err != nil {
			return form.Item{}, err
		}
		it.Items = items
		p.checkScope(it.Rules, it.Items)
		for i := range it.Items {
			if it.Items[i].Kind == form.KindField {
				p.checkScope(it.Items[i].Rules, it.Items)
			}
		}
		return it, nil
	}
	p.field(n, &it)
	return it, nil
}

var feldarten = set("input", "select", "label", "hidden", "locked")
var datentypen = set("text", "text_latin", "date", "time", "datetime", "bool", "num", "num_int", "num_currency", "file", "obj")

func (p *parser) field(n *node, it *form.Item) {
	fa := p.code(n, "feldart")
	if !feldarten[fa] {
		p.warn(n, "unbekannte Feldart %q bei %s, als input behandelt (unknown feldart)", fa, it.ID)
		fa = "input"
	}
	it.Feldart = form.Feldart(fa)
	dt := p.code(n, "datentyp")
	if !datentypen[dt] {
		p.warn(n, "unbekannter Datentyp %q bei %s, als text behandelt (unknown datentyp)", dt, it.ID)
		dt = "text"
	}
	it.Datentyp = form.Datentyp(dt)
	it.Inhalt = p.text(n, "inhalt")
	if pr := p.kid(n, "praezisierung"); pr != nil {
		p.praezisierung(pr, it)
	}
	if p.format == form.FormatXDF3 {
		it.Prefill = p.code(n, "vorbefuellung")
		if ms := p.text(n, "maxSize"); ms != "" {
			v, err := strconv.ParseInt(ms, 10, 64)
			if err != nil || v < 0 {
				p.warn(p.kid(n, "maxSize"), "ungültige maxSize %q bei %s wird ignoriert", ms, it.ID)
			} else {
				it.MaxSize = v
			}
		}
		for _, mt := range p.kids(n, "mediaType") {
			if t := strings.TrimSpace(mt.str()); t != "" {
				it.MediaTypes = append(it.MediaTypes, t)
			}
		}
		if w := p.kid(n, "werte"); w != nil {
			for _, v := range p.kids(w, "wert") {
				val := form.Value{Code: p.text(v, "code"), Name: p.text(v, "name"), Help: p.text(v, "hilfe")}
				if val.Code == "" {
					p.warn(v, "Wert ohne <code> bei %s wird ignoriert", it.ID)
					continue
				}
				if val.Name == "" {
					val.Name = val.Code
				}
				it.Values = append(it.Values, val)
			}
		}
	}
	if cr := p.kid(n, "codelisteReferenz"); cr != nil {
		ref := form.CodeListRef{}
		if idn := p.kid(cr, "identifikation"); idn != nil {
			ref.ID = p.text(idn, "id")
		}
		g := p.kid(cr, "genericodeIdentification")
		if g == nil {
			g = cr
		}
		ref.Canonical = p.text(g, "canonicalIdentification")
		ref.Version = p.text(g, "version")
		ref.CanonicalVersionURI = p.text(g, "canonicalVersionUri")
		ref.CodeKey, ref.NameKey, ref.HelpKey = p.text(n, "codeKey"), p.text(n, "nameKey"), p.text(n, "helpKey")
		switch {
		case ref.CanonicalVersionURI != "":
			ref.Key = ref.CanonicalVersionURI
		case ref.Canonical != "" && ref.Version != "":
			ref.Key = ref.Canonical + "_" + ref.Version
		case ref.Canonical != "":
			ref.Key = ref.Canonical
		default:
			ref.Key = ref.ID
		}
		if ref.Key == "" {
			p.warn(cr, "leere Codelisten-Referenz bei %s (empty code list reference)", it.ID)
		} else {
			p.remember("C:"+ref.Key, cr)
			it.CodeList = &ref
		}
	}
	if it.Feldart == form.FeldSelect && it.CodeList == nil && len(it.Values) == 0 {
		p.warn(n, "Auswahlfeld %s hat weder Werte noch Codeliste (select without values)", it.ID)
	}
	if len(it.Values) > 0 && it.Feldart != form.FeldSelect {
		p.warn(n, "Feld %s hat Werte, ist aber kein Auswahlfeld (values on a non-select)", it.ID)
	}
}

// praezisierung reads constraints: v2 JSON text (values as strings), v3
// attributes.
func (p *parser) praezisierung(n *node, it *form.Item) {
	c := &it.Constraints
	setInt := func(key, v string, dst *int) {
		v = strings.TrimSpace(v)
		if v == "" {
			return
		}
		x, err := strconv.Atoi(v)
		if err != nil || x < 0 {
			p.warn(n, "Präzisierung %s=%q bei %s ist keine Zahl und wird ignoriert", key, v, it.ID)
			return
		}
		*dst = x
	}
	apply := func(key, v string) {
		switch key {
		case "minLength":
			setInt(key, v, &c.MinLength)
		case "maxLength":
			setInt(key, v, &c.MaxLength)
		case "minValue":
			c.MinValue = strings.TrimSpace(v)
		case "maxValue":
			c.MaxValue = strings.TrimSpace(v)
		case "pattern":
			c.Pattern = v
		default:
			p.warn(n, "unbekannte Präzisierung %q bei %s wird ignoriert", key, it.ID)
		}
	}
	if p.format == form.FormatXDF3 {
		for _, a := range n.attrs {
			if a.space == "" {
				apply(a.local, a.value)
			}
		}
		if t := strings.TrimSpace(n.str()); t != "" {
			p.warn(n, "Text in <praezisierung> bei %s wird ignoriert (v3 nutzt Attribute)", it.ID)
		}
	} else {
		t := strings.TrimSpace(n.str())
		if t != "" {
			raw, cached := p.jsonPraez[t]
			if !cached {
				if err := json.Unmarshal([]byte(t), &raw); err != nil {
					raw = nil
				}
				if p.jsonPraez == nil {
					p.jsonPraez = map[string]map[string]any{}
				}
				p.jsonPraez[t] = raw
			}
			if raw == nil {
				c.Hint = t
				p.warn(n, "Präzisierung %q bei %s ist kein JSON und bleibt nur als Hinweis erhalten (legacy text kept as hint)", t, it.ID)
			} else {
				keys := make([]string, 0, len(raw))
				for k := range raw {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					switch v := raw[k].(type) {
					case string:
						apply(k, v)
					case float64:
						apply(k, strconv.FormatFloat(v, 'f', -1, 64))
					default:
						p.warn(n, "Präzisierung %s bei %s hat keinen Text- oder Zahlwert und wird ignoriert", k, it.ID)
					}
				}
			}
		}
	}
	if c.MinLength > 0 && c.MaxLength > 0 && c.MinLength > c.MaxLength {
		p.warn(n, "Präzisierung bei %s: minLength %d > maxLength %d", it.ID, c.MinLength, c.MaxLength)
	}
	if c.Pattern != "" {
		if _, err := form.CompilePattern(c.Pattern); err != nil {
			p.warn(n, "Muster bei %s kann nicht geprüft werden und wird ignoriert: %v", it.ID, err)
		}
	}
}

func (p *parser) rule(n *node, owner string) (form.Rule, error) {
	id, version, err := p.ident(n, "<regel>")
	if err != nil {
		return form.Rule{}, err
	}
	if err := p.checkKids(n, "Regel "+id, kRule); err != nil {
		return form.Rule{}, err
	}
	r := form.Rule{ID: id, Version: version, Name: p.text(n, "name"), Owner: owner}
	p.remember("R:"+id+":"+version, n)
	if p.format == form.FormatXDF3 {
		r.Text = p.text(n, "freitextRegel")
		r.Script = p.text(n, "skript")
		r.Type = p.code(n, "typ")
	} else {
		r.Text = p.text(n, "definition")
		r.Script = p.text(n, "script")
	}
	r.Conditions = slices.Clone(Recognise(r.Text))
	return r, nil
}

// checkScope rewrites v2-style ids cited by v3 rules (G60000086 →
// G60000000086) and drops conditions whose elements are not in the scope.
func (p *parser) checkScope(rules []form.Rule, scope []form.Item) {
	if len(rules) == 0 {
		return
	}
	ids := map[string]bool{}
	var walk func([]form.Item)
	walk = func(items []form.Item) {
		for _, it := range items {
			ids[it.ID] = true
			walk(it.Items)
		}
	}
	walk(scope)
	fix := func(id string) (string, bool) {
		if ids[id] {
			return id, true
		}
		if len(id) == 9 {
			if v3 := id[:3] + "000" + id[3:]; ids[v3] {
				return v3, true
			}
		}
		return id, false
	}
	for i := range rules {
		r := &rules[i]
		var keep []form.Condition
		for _, c := range r.Conditions {
			ok := true
			var missing string
			if c.Field != "" {
				var found bool
				if c.Field, found = fix(c.Field); !found {
					ok, missing = false, c.Field
				}
			}
			if c.Target != "" {
				var found bool
				if c.Target, found = fix(c.Target); !found {
					ok, missing = false, c.Target
				}
			}
			ts := make([]string, len(c.Targets))
			for j, t := range c.Targets {
				var found bool
				if ts[j], found = fix(t); !found {
					ok, missing = false, t
				}
			}
			if len(c.Targets) > 0 {
				c.Targets = ts
			}
			if !ok {
				p.warn(p.at["R:"+r.ID+":"+r.Version], "Regel %s %s: %s liegt nicht im Geltungsbereich von %s; Bedingung nicht übernommen (element not in scope)", r.ID, r.Version, missing, r.Owner)
				continue
			}
			keep = append(keep, c)
		}
		r.Conditions = keep
	}
}

// finishRules collects the distinct (id, version) rules and warns about
// unrecognised ones.
func (p *parser) finishRules(m *form.Model) {
	seen := map[string]bool{}
	add := func(r form.Rule) {
		k := r.ID + ":" + r.Version
		if seen[k] {
			return
		}
		seen[k] = true
		m.Rules = append(m.Rules, r)
		if !r.Recognised() {
			text := r.Text
			if len([]rune(text)) > 160 {
				text = string([]rune(text)[:160]) + "…"
			}
			p.warn(p.at["R:"+r.ID+":"+r.Version], "Regel %s %s (%s) nicht erkannt, nur als Text übernommen (rule not recognised): %q", r.ID, r.Version, r.Name, text)
		}
	}
	for _, r := range p.rootRules {
		add(r)
	}
	m.Walk(func(it *form.Item, _ *form.Item) bool {
		for _, r := range it.Rules {
			add(r)
		}
		return true
	})
}

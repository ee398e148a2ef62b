// SPDX-License-Identifier: EUPL-1.2

package fim

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"rathaus"
	"rathaus/form"
)

// ParseCodeList reads an OASIS genericode 1.0 code list, in either
// serialisation style (gc: prefix or default namespace). The code column is
// the ColumnRef of the Key "codeKey" (else of the first Key, else the first
// column); the label column is the Key "codenameKey" (else the second Key,
// else a column named "name" or "beschreibung", else the second column).
func ParseCodeList(data []byte) (*form.CodeList, error) {
	return parseCodeList(data, "codelist.xml")
}

func parseCodeList(data []byte, name string) (*form.CodeList, error) {
	root, release, err := parseXML(data)
	if err != nil {
		return nil, syntaxErr(name, data, err)
	}
	defer release()
	p := &parser{name: name, data: data, ns: NSGenericode, warned: map[string]bool{}}
	if root.space != NSGenericode || root.local != "CodeList" {
		return nil, p.errAt(root, "keine genericode-Codeliste: Wurzelelement <%s> im Namensraum %q (not a genericode CodeList)", root.local, root.space)
	}
	cl := &form.CodeList{}
	if id := p.kid(root, "Identification"); id != nil {
		cl.ShortName = p.text(id, "ShortName")
		cl.LongName = p.text(id, "LongName")
		cl.Version = p.text(id, "Version")
		cl.CanonicalURI = p.text(id, "CanonicalUri")
		cl.CanonicalVersionURI = p.text(id, "CanonicalVersionUri")
	} else {
		return nil, p.errAt(root, "<Identification> fehlt (missing)")
	}
	cs := p.kid(root, "ColumnSet")
	if cs == nil {
		return nil, p.errAt(root, "<ColumnSet> fehlt (missing)")
	}
	colIndex := map[string]int{}
	var keys []struct{ id, ref string }
	for _, k := range cs.kids {
		if k.space != NSGenericode {
			continue
		}
		switch k.local {
		case "Column":
			id, _ := k.attr("Id")
			if id == "" {
				return nil, p.errAt(k, "<Column> ohne Id (column without Id)")
			}
			if _, dup := colIndex[id]; dup {
				return nil, p.errAt(k, "Spalte %q doppelt (duplicate column)", id)
			}
			colIndex[id] = len(cl.Columns)
			cl.Columns = append(cl.Columns, id)
		case "Key":
			id, _ := k.attr("Id")
			ref := ""
			if cr := p.kid(k, "ColumnRef"); cr != nil {
				ref, _ = cr.attr("Ref")
			}
			keys = append(keys, struct{ id, ref string }{id, ref})
		}
	}
	if len(cl.Columns) == 0 {
		return nil, p.errAt(cs, "keine Spalten (no columns)")
	}
	known := func(c string) bool { _, ok := colIndex[c]; return ok }
	for _, k := range keys {
		if k.id == "codeKey" && known(k.ref) {
			cl.CodeColumn = k.ref
		}
		if k.id == "codenameKey" && known(k.ref) {
			cl.NameColumn = k.ref
		}
	}
	if cl.CodeColumn == "" {
		for _, k := range keys {
			if known(k.ref) {
				cl.CodeColumn = k.ref
				break
			}
		}
	}
	if cl.CodeColumn == "" {
		cl.CodeColumn = cl.Columns[0]
	}
	if cl.NameColumn == "" {
		for _, k := range keys {
			if known(k.ref) && k.ref != cl.CodeColumn {
				cl.NameColumn = k.ref
				break
			}
		}
	}
	if cl.NameColumn == "" {
		for _, c := range []string{"name", "beschreibung"} {
			if known(c) && c != cl.CodeColumn {
				cl.NameColumn = c
				break
			}
		}
	}
	if cl.NameColumn == "" {
		for _, c := range cl.Columns {
			if c != cl.CodeColumn {
				cl.NameColumn = c
				break
			}
		}
	}
	if scl := p.kid(root, "SimpleCodeList"); scl != nil {
		for _, row := range p.kids(scl, "Row") {
			cells := make([]string, len(cl.Columns))
			pos := 0
			for _, v := range p.kids(row, "Value") {
				ref, ok := v.attr("ColumnRef")
				i := pos
				if ok {
					var found bool
					if i, found = colIndex[ref]; !found {
						return nil, p.errAt(v, "unbekannte Spalte %q (unknown ColumnRef)", ref)
					}
				}
				if i >= len(cells) {
					return nil, p.errAt(v, "mehr Werte als Spalten (more values than columns)")
				}
				cells[i] = p.text(v, "SimpleValue")
				pos = i + 1
			}
			cl.Rows = append(cl.Rows, cells)
		}
	}
	return cl, nil
}

// listKey returns the keys under which a list can be referenced.
func listKeys(cl *form.CodeList) []string {
	var ks []string
	if cl.CanonicalVersionURI != "" {
		ks = append(ks, cl.CanonicalVersionURI)
	}
	if cl.CanonicalURI != "" && cl.Version != "" {
		ks = append(ks, cl.CanonicalURI+"_"+cl.Version, cl.CanonicalURI+"\x00"+cl.Version)
	}
	return ks
}

// matcher finds parsed lists for references.
type matcher map[string]*form.CodeList

func (mt matcher) add(cl *form.CodeList) {
	for _, k := range listKeys(cl) {
		if _, dup := mt[k]; !dup {
			mt[k] = cl
		}
	}
	if cl.CanonicalURI != "" {
		if _, dup := mt["\x01"+cl.CanonicalURI]; !dup {
			mt["\x01"+cl.CanonicalURI] = cl
		}
	}
}

func (mt matcher) find(ref form.CodeListRef) *form.CodeList {
	if ref.CanonicalVersionURI != "" {
		if cl := mt[ref.CanonicalVersionURI]; cl != nil {
			return cl
		}
	}
	if ref.Canonical != "" && ref.Version != "" {
		if cl := mt[ref.Canonical+"\x00"+ref.Version]; cl != nil {
			return cl
		}
	}
	if ref.Canonical != "" && ref.Version == "" && ref.CanonicalVersionURI == "" {
		return mt["\x01"+ref.Canonical]
	}
	return nil
}

// codeLists attaches the referenced lists to the model.
func (p *parser) codeLists(m *form.Model, opts Options) {
	mt := matcher{}
	names := make([]string, 0, len(opts.CodeLists))
	for k := range opts.CodeLists {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		cl, err := parseCodeList(opts.CodeLists[k], k)
		if err != nil {
			p.warn(nil, "Codeliste %s nicht lesbar: %s", k, rathaus.ErrorMessage(err))
			continue
		}
		mt.add(cl)
	}
	m.Walk(func(it *form.Item, _ *form.Item) bool {
		if it.CodeList == nil {
			return true
		}
		ref := *it.CodeList
		if _, done := m.CodeLists[ref.Key]; done {
			return true
		}
		cl := mt.find(ref)
		if cl == nil && opts.Resolve != nil {
			var err error
			cl, err = opts.Resolve(ref)
			if err != nil {
				p.warn(p.at["C:"+ref.Key], "Codeliste %s: %s", ref.Key, rathaus.ErrorMessage(err))
				cl = nil
			}
		}
		if cl == nil {
			p.warn(p.at["C:"+ref.Key], "Codeliste %s (%s) für %s nicht gefunden; Auswahl wird nicht geprüft (code list not found)", ref.Key, ref.ID, it.ID)
			return true
		}
		if m.CodeLists == nil {
			m.CodeLists = map[string]*form.CodeList{}
		}
		for _, k := range []string{ref.CodeKey, ref.NameKey, ref.HelpKey} {
			if k != "" && cl.Column(k) < 0 {
				p.warn(p.at["C:"+ref.Key], "Codeliste %s hat keine Spalte %q (column not found)", ref.Key, k)
			}
		}
		m.CodeLists[ref.Key] = cl
		return true
	})
}

// IsCodeList reports whether data is a genericode document (by its root
// element), without parsing all of it.
func IsCodeList(data []byte) bool {
	return rootSpace(data) == NSGenericode
}

// rootSpace returns the namespace of the root element, "" when unknown.
func rootSpace(data []byte) string {
	// The root start tag is near the beginning; read up to its end.
	end := len(data)
	if end > 4096 {
		end = 4096
	}
	head := data[:end]
	i := 0
	for {
		j := strings.IndexByte(string(head[i:]), '<')
		if j < 0 {
			return ""
		}
		i += j
		if i+1 < len(head) && (head[i+1] == '?' || head[i+1] == '!') {
			i++
			continue
		}
		break
	}
	k := strings.IndexByte(string(head[i:]), '>')
	if k < 0 {
		return ""
	}
	tag := string(head[i : i+k+1])
	if !strings.HasSuffix(tag, "/>") {
		tag = strings.TrimSuffix(tag, ">") + "/>"
	}
	root, release, err := parseXML([]byte(tag))
	if err != nil {
		return ""
	}
	defer release()
	return root.space
}

// LoadFile parses the schema at path with the genericode files in the same
// directory (every *.xml whose root is a genericode CodeList).
func LoadFile(path string) (*form.Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "%s: Datei nicht lesbar (cannot read file)", path)
	}
	lists, err := codeListFiles(filepath.Dir(path), path)
	if err != nil {
		return nil, err
	}
	return Parse(data, Options{Name: path, CodeLists: lists})
}

// LoadDir parses the one XDatenfelder schema in dir together with the
// genericode files next to it. It is an error when dir holds no schema or
// more than one.
func LoadDir(dir string) (*form.Model, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "%s: Verzeichnis nicht lesbar (cannot read directory)", dir)
	}
	var schemas []string
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".xml") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, rathaus.Wrap(rathaus.EINVALID, err, "%s: Datei nicht lesbar", p)
		}
		switch rootSpace(data) {
		case NSXDF1, NSXDF2, NSXDF3:
			schemas = append(schemas, p)
		}
	}
	switch len(schemas) {
	case 0:
		return nil, rathaus.Errorf(rathaus.EINVALID, "%s: kein XDatenfelder-Schema gefunden (no schema found)", dir)
	case 1:
		return LoadFile(schemas[0])
	}
	return nil, rathaus.Errorf(rathaus.EINVALID, "%s: mehrere Schemata gefunden (%s); bitte eine Datei angeben (more than one schema)", dir, strings.Join(baseNames(schemas), ", "))
}

func baseNames(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = filepath.Base(p)
	}
	return out
}

func codeListFiles(dir, except string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "%s: Verzeichnis nicht lesbar", dir)
	}
	lists := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".xml") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if filepath.Clean(p) == filepath.Clean(except) {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, rathaus.Wrap(rathaus.EINVALID, err, "%s: Datei nicht lesbar", p)
		}
		if IsCodeList(data) {
			lists[e.Name()] = data
		}
	}
	return lists, nil
}

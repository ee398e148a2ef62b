// SPDX-License-Identifier: EUPL-1.2

package importer

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"rathaus/catalog"
	"rathaus/tenant"
)

// leikaColumns are the columns of leika-leistungen.csv.
var leikaColumns = []string{
	"db_id", "leika_schluessel", "leistungsbezeichnung", "typisierung", "ozg_id",
	"ozg_leistung", "rechtsgrundlage", "gesetze", "gesetz_kuerzel", "beschreibung", "hidden",
}

// notInLeiKa is the marker the LeiKa file uses for services without a key.
const notInLeiKa = "nicht im LeiKa"

// ReadLeiKa reads the LeiKa-Leistungen (leika-leistungen.csv: db_id,
// leika_schluessel, leistungsbezeichnung, typisierung, ozg_id, ozg_leistung,
// rechtsgrundlage, gesetze, gesetz_kuerzel, beschreibung, hidden) into
// national services at tenant.Bund with Source "leika" and SourceID db_id.
//
// The Key is the 14-digit LeiKa key. Rows marked "nicht im LeiKa", and rows
// whose key is not 14 digits (warning), are kept without a LeiKa key as
// "leika-db-<db_id>". A LeiKa key that appears again is merged into the
// first row (empty fields filled from the later one) with a warning; a
// repeated db_id is an error. Rows with hidden=1 are skipped with a warning.
// LegalBasis is rechtsgrundlage, or else the named laws (gesetze); the law
// abbreviation becomes a keyword.
func ReadLeiKa(r io.Reader, name string) ([]catalog.Service, []Warning, error) {
	t, err := readCSV(r, name, leikaColumns)
	if err != nil {
		return nil, nil, err
	}
	var (
		out     []catalog.Service
		warns   []Warning
		byKey   = map[string]int{} // service key → index in out
		keyLine = map[string]int{}
		dbLine  = map[string]int{}
	)
	warn := func(line int, field, format string, args ...any) {
		warns = append(warns, Warning{File: name, Line: line, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	for _, row := range t.rows {
		id := t.get(row, "db_id")
		if !allDigits(id) {
			return nil, nil, inputError(name, row.line, "db_id", "want a number, got %q", id)
		}
		if first, dup := dbLine[id]; dup {
			return nil, nil, inputError(name, row.line, "db_id", "duplicate db_id %s (first on line %d)", id, first)
		}
		dbLine[id] = row.line
		switch h := t.get(row, "hidden"); h {
		case "", "0":
		case "1":
			warn(row.line, "hidden", "hidden row %s skipped", id)
			continue
		default:
			return nil, nil, inputError(name, row.line, "hidden", "want 0 or 1, got %q", h)
		}
		nm := t.get(row, "leistungsbezeichnung")
		if nm == "" {
			return nil, nil, inputError(name, row.line, "leistungsbezeichnung", "empty name")
		}
		s := catalog.Service{
			Tenant:      tenant.Bund,
			Source:      "leika",
			SourceID:    id,
			Name:        nm,
			Summary:     t.get(row, "beschreibung"),
			Typisierung: t.get(row, "typisierung"),
			OZGID:       t.get(row, "ozg_id"),
			OZGName:     t.get(row, "ozg_leistung"),
			LegalBasis:  t.get(row, "rechtsgrundlage"),
		}
		if s.LegalBasis == "" {
			s.LegalBasis = t.get(row, "gesetze")
		}
		if k := t.get(row, "gesetz_kuerzel"); k != "" {
			for _, part := range strings.Split(k, ",") {
				if part = strings.TrimSpace(part); part != "" {
					s.Keywords = append(s.Keywords, part)
				}
			}
		}
		if s.OZGID != "" && !allDigits(s.OZGID) {
			return nil, nil, inputError(name, row.line, "ozg_id", "want a number, got %q", s.OZGID)
		}
		switch key := t.get(row, "leika_schluessel"); {
		case digits(key, 14):
			s.LeiKa, s.Key = key, key
		case key == notInLeiKa || key == "":
			s.Key = "leika-db-" + id
		default:
			warn(row.line, "leika_schluessel", "%q is not a 14-digit LeiKa key; kept as leika-db-%s", key, id)
			s.Key = "leika-db-" + id
		}
		if i, dup := byKey[s.Key]; dup {
			warn(row.line, "leika_schluessel", "LeiKa key %s repeats line %d; merged into it", s.Key, keyLine[s.Key])
			mergeService(&out[i], s)
			continue
		}
		byKey[s.Key] = len(out)
		keyLine[s.Key] = row.line
		out = append(out, s)
	}
	return out, warns, nil
}

// mergeService fills the empty fields of dst from src.
func mergeService(dst *catalog.Service, src catalog.Service) {
	fill := func(d *string, s string) {
		if *d == "" {
			*d = s
		}
	}
	fill(&dst.Summary, src.Summary)
	fill(&dst.Typisierung, src.Typisierung)
	fill(&dst.OZGID, src.OZGID)
	fill(&dst.OZGName, src.OZGName)
	fill(&dst.LegalBasis, src.LegalBasis)
	dst.Keywords = appendNew(dst.Keywords, src.Keywords...)
}

// appendNew appends the values of add not yet in list.
func appendNew(list []string, add ...string) []string {
	for _, a := range add {
		found := false
		for _, l := range list {
			if strings.EqualFold(l, a) {
				found = true
				break
			}
		}
		if !found {
			list = append(list, a)
		}
	}
	return list
}

// OZGLeistung is one OZG-Leistung of the OZG-Umsetzungskatalog with the
// Lebenslage and Themenfeld it belongs to.
type OZGLeistung struct {
	ID         string // 5-digit OZG-ID
	Name       string
	Lebenslage string // name of the Lebens-/Unternehmenslage
	Themenfeld string // name of the Themenfeld
}

// OZGCatalog is the OZG-Umsetzungskatalog: Themenfelder → Lebenslagen →
// OZG-Leistungen.
type OZGCatalog struct {
	Lebenslagen []catalog.Lebenslage   // ordered by Themenfeld, then name
	Leistungen  map[string]OZGLeistung // by OZG-ID
}

// ReadOZG reads themenfelder.csv, lebenslagen.csv and ozg-leistungen.csv
// from dir. Names are trimmed (the file has "Querschnitt "). A Lebenslage
// whose Themenfeld id is unknown keeps the Themenfeld name written beside it
// (warning); a repeated id keeps the first row (warning); a Lebenslage that
// no OZG-Leistung uses (test rows of the source database) is dropped
// (warning).
func ReadOZG(dir string) (*OZGCatalog, []Warning, error) {
	var warns []Warning
	open := func(file string, cols []string) (*csvTable, error) {
		p := filepath.Join(dir, file)
		f, err := os.Open(p)
		if err != nil {
			return nil, inputError(p, 0, "", "cannot open: %v", err)
		}
		defer f.Close()
		return readCSV(f, p, cols)
	}
	tf, err := open("themenfelder.csv", []string{"themenfeld_id", "themenfeld", "hidden"})
	if err != nil {
		return nil, nil, err
	}
	themen := map[string]string{}
	for _, row := range tf.rows {
		id, nm := tf.get(row, "themenfeld_id"), tf.get(row, "themenfeld")
		if !allDigits(id) || nm == "" {
			return nil, nil, inputError(tf.name, row.line, "themenfeld_id", "want a number and a name, got %q %q", id, nm)
		}
		if _, dup := themen[id]; dup {
			warns = append(warns, Warning{tf.name, row.line, "themenfeld_id", "duplicate id " + id + "; first kept"})
			continue
		}
		themen[id] = nm
	}
	ll, err := open("lebenslagen.csv", []string{"lebenslage_id", "lebenslage", "themenfeld_id", "themenfeld", "hidden"})
	if err != nil {
		return nil, nil, err
	}
	c := &OZGCatalog{Leistungen: map[string]OZGLeistung{}}
	lagen := map[string]catalog.Lebenslage{}
	lageLine := map[string]int{}
	used := map[string]bool{}
	for _, row := range ll.rows {
		l := catalog.Lebenslage{ID: ll.get(row, "lebenslage_id"), Name: ll.get(row, "lebenslage")}
		if !allDigits(l.ID) || l.Name == "" {
			return nil, nil, inputError(ll.name, row.line, "lebenslage_id", "want a number and a name, got %q %q", l.ID, l.Name)
		}
		if _, dup := lagen[l.ID]; dup {
			warns = append(warns, Warning{ll.name, row.line, "lebenslage_id", "duplicate id " + l.ID + "; first kept"})
			continue
		}
		var ok bool
		if l.Themenfeld, ok = themen[ll.get(row, "themenfeld_id")]; !ok {
			l.Themenfeld = ll.get(row, "themenfeld")
			warns = append(warns, Warning{ll.name, row.line, "themenfeld_id", fmt.Sprintf("unknown Themenfeld %q; using the name %q", ll.get(row, "themenfeld_id"), l.Themenfeld)})
		}
		lagen[l.ID] = l
		lageLine[l.ID] = row.line
		c.Lebenslagen = append(c.Lebenslagen, l)
	}
	sort.Slice(c.Lebenslagen, func(i, j int) bool {
		a, b := c.Lebenslagen[i], c.Lebenslagen[j]
		if a.Themenfeld != b.Themenfeld {
			return a.Themenfeld < b.Themenfeld
		}
		return a.Name < b.Name
	})
	ol, err := open("ozg-leistungen.csv", []string{"db_id", "ozg_id", "ozg_leistung", "lebenslage_id", "lebenslage", "themenfeld", "prioritaet", "status", "anzahl_leika_leistungen", "hidden"})
	if err != nil {
		return nil, nil, err
	}
	for _, row := range ol.rows {
		l := OZGLeistung{ID: ol.get(row, "ozg_id"), Name: ol.get(row, "ozg_leistung")}
		if !allDigits(l.ID) || l.Name == "" {
			return nil, nil, inputError(ol.name, row.line, "ozg_id", "want a number and a name, got %q %q", l.ID, l.Name)
		}
		if _, dup := c.Leistungen[l.ID]; dup {
			warns = append(warns, Warning{ol.name, row.line, "ozg_id", "duplicate OZG-ID " + l.ID + "; first kept"})
			continue
		}
		if lage, ok := lagen[ol.get(row, "lebenslage_id")]; ok {
			l.Lebenslage, l.Themenfeld = lage.Name, lage.Themenfeld
		} else {
			l.Lebenslage, l.Themenfeld = ol.get(row, "lebenslage"), ol.get(row, "themenfeld")
			warns = append(warns, Warning{ol.name, row.line, "lebenslage_id", fmt.Sprintf("unknown Lebenslage %q; using the names beside it", ol.get(row, "lebenslage_id"))})
		}
		c.Leistungen[l.ID] = l
		used[ol.get(row, "lebenslage_id")] = true
	}
	// The source database holds a few test Lebenslagen ("aaaaabbbbb") that no
	// OZG-Leistung uses: they would only clutter the browse pages.
	kept := c.Lebenslagen[:0]
	for _, l := range c.Lebenslagen {
		if !used[l.ID] {
			warns = append(warns, Warning{ll.name, lageLine[l.ID], "lebenslage_id", fmt.Sprintf("Lebenslage %s %q has no OZG-Leistung; dropped", l.ID, l.Name)})
			continue
		}
		kept = append(kept, l)
	}
	c.Lebenslagen = kept
	return c, warns, nil
}

// Attach sets Lebenslagen, Themenfeld and (if empty) OZGName of every
// service whose OZGID is in the catalogue. It returns a warning for each
// distinct OZG-ID it does not know.
func (c *OZGCatalog) Attach(ss []catalog.Service) []Warning {
	var warns []Warning
	unknown := map[string]bool{}
	for i := range ss {
		s := &ss[i]
		if s.OZGID == "" {
			continue
		}
		l, ok := c.Leistungen[s.OZGID]
		if !ok {
			if !unknown[s.OZGID] {
				unknown[s.OZGID] = true
				warns = append(warns, Warning{Field: "ozg_id", Reason: fmt.Sprintf("OZG-ID %s (service %s) is not in the OZG catalogue", s.OZGID, s.Key)})
			}
			continue
		}
		if l.Lebenslage != "" {
			s.Lebenslagen = appendNew(s.Lebenslagen, l.Lebenslage)
		}
		s.Themenfeld = l.Themenfeld
		if s.OZGName == "" {
			s.OZGName = l.Name
		}
	}
	return warns
}

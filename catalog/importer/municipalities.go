// SPDX-License-Identifier: EUPL-1.2

package importer

import (
	"fmt"
	"io"
	"math"
	"sort"

	"rathaus/tenant"
)

// gvColumns are the columns of the Destatis GV-ISys extract (AuszugGV…csv).
var gvColumns = []string{
	"satzart", "textkennzeichen", "land", "rb", "kreis", "vb", "gemeinde",
	"gemeindename", "flaeche", "bevoelkerung", "maennlich", "weiblich", "jekm2",
	"postleitzahl", "laengengrad", "breitengrad", "schluessel", "bezeichnung",
	"verstaedterungschluessel", "verstaedterungbezeichnung",
}

// BundName is the name of the root tenant added by ReadMunicipalities.
const BundName = "Bundesrepublik Deutschland"

// ReadMunicipalities reads the raw Destatis GV-ISys extract (UTF-8, optional
// BOM, comma-separated, header line) and returns the administrative tree:
// a Bund root (tenant.Bund), then Länder (Satzart 10), Regierungsbezirke (20),
// Kreise (40), Gemeindeverbände (50) and Gemeinden (60), parents before
// children.
//
// The 12-digit ARS is land(2) + rb(1) + kreis(2) + vb(4) + gemeinde(3),
// zero-filled for the higher levels. Where levels share one ARS (a kreisfreie
// Stadt is Kreis, Verband and Gemeinde at once; Berlin and Hamburg are also
// the Land) they become one node with the most specific level and name. The
// parent is the nearest existing node up the lineage (a Kreis in a Land
// without Regierungsbezirke hangs under the Land). Satzart 30 (Region, only in
// Baden-Württemberg) is a planning region outside the ARS and is skipped with
// a warning. Gemeinden carry AGS, PLZ, population, area and coordinates;
// higher nodes carry the summed population and area. Inhabited is
// population > 0.
//
// Errors (EINVALID, "name:line: field: reason"): invalid UTF-8, missing or
// unknown header columns, rows with the wrong number of columns, bad keys or
// numbers, unknown Satzart, an ARS that appears twice at the same level.
func ReadMunicipalities(r io.Reader, name string) ([]tenant.Tenant, []Warning, error) {
	t, err := readCSV(r, name, gvColumns)
	if err != nil {
		return nil, nil, err
	}
	type node struct {
		tenant.Tenant
		line  int
		order int
	}
	nodes := map[string]*node{}
	var warns []Warning
	warn := func(line int, field, format string, args ...any) {
		warns = append(warns, Warning{File: name, Line: line, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	key := func(row csvRow, field string, n int) (string, error) {
		v := t.get(row, field)
		if !digits(v, n) {
			return "", inputError(name, row.line, field, "want %d digits, got %q", n, v)
		}
		return v, nil
	}
	for i, row := range t.rows {
		satzart := t.get(row, "satzart")
		var lvl tenant.Level
		switch satzart {
		case "10":
			lvl = tenant.LevelLand
		case "20":
			lvl = tenant.LevelRegierungsbezirk
		case "30":
			warn(row.line, "satzart", "Satzart 30 (Region %q) is a planning region outside the ARS tree; skipped", t.get(row, "gemeindename"))
			continue
		case "40":
			lvl = tenant.LevelKreis
		case "50":
			lvl = tenant.LevelGemeindeverband
		case "60":
			lvl = tenant.LevelGemeinde
		default:
			return nil, nil, inputError(name, row.line, "satzart", "unknown Satzart %q (want 10, 20, 30, 40, 50 or 60)", satzart)
		}
		// Collect the key parts this level must have; deeper parts are zero.
		parts := []struct {
			field string
			n     int
			from  tenant.Level
		}{
			{"land", 2, tenant.LevelLand},
			{"rb", 1, tenant.LevelRegierungsbezirk},
			{"kreis", 2, tenant.LevelKreis},
			{"vb", 4, tenant.LevelGemeindeverband},
			{"gemeinde", 3, tenant.LevelGemeinde},
		}
		vals := map[string]string{}
		ars := ""
		for _, p := range parts {
			if lvl < p.from {
				ars += zeros[:p.n]
				vals[p.field] = zeros[:p.n]
				continue
			}
			v, err := key(row, p.field, p.n)
			if err != nil {
				return nil, nil, err
			}
			if p.field == "land" && v == "00" {
				// 00… is the Bund; a row there would silently merge into it.
				return nil, nil, inputError(name, row.line, "land", "%q is no Land (01 to 16)", v)
			}
			vals[p.field] = v
			ars += v
		}
		nm := t.get(row, "gemeindename")
		if nm == "" {
			return nil, nil, inputError(name, row.line, "gemeindename", "empty name")
		}
		tn := tenant.Tenant{ARS: ars, Level: lvl, Name: nm}
		if lvl == tenant.LevelGemeinde {
			tn.AGS = vals["land"] + vals["rb"] + vals["kreis"] + vals["gemeinde"]
			if tn.Population, err = germanInt(t.get(row, "bevoelkerung")); err != nil || tn.Population < 0 {
				return nil, nil, inputError(name, row.line, "bevoelkerung", "not a number: %q", t.get(row, "bevoelkerung"))
			}
			if tn.Area, err = germanFloat(t.get(row, "flaeche")); err != nil || tn.Area < 0 || math.IsNaN(tn.Area) || math.IsInf(tn.Area, 0) {
				return nil, nil, inputError(name, row.line, "flaeche", "not an area in km²: %q", t.get(row, "flaeche"))
			}
			if tn.Lon, err = germanFloat(t.get(row, "laengengrad")); err != nil || tn.Lon < -180 || tn.Lon > 180 {
				return nil, nil, inputError(name, row.line, "laengengrad", "not a longitude: %q", t.get(row, "laengengrad"))
			}
			if tn.Lat, err = germanFloat(t.get(row, "breitengrad")); err != nil || tn.Lat < -90 || tn.Lat > 90 {
				return nil, nil, inputError(name, row.line, "breitengrad", "not a latitude: %q", t.get(row, "breitengrad"))
			}
			tn.PLZ = t.get(row, "postleitzahl")
			if tn.PLZ != "" && !digits(tn.PLZ, 5) {
				return nil, nil, inputError(name, row.line, "postleitzahl", "want 5 digits, got %q", tn.PLZ)
			}
			tn.Inhabited = tn.Population > 0
			if tn.Inhabited && tn.PLZ == "" {
				warn(row.line, "postleitzahl", "inhabited Gemeinde %s without postcode", ars)
			}
		}
		if old, ok := nodes[ars]; ok {
			switch {
			case old.Level == lvl:
				return nil, nil, inputError(name, row.line, "ars", "duplicate ARS %s (first on line %d)", ars, old.line)
			case old.Level > lvl:
				continue // the more specific node already stands for this ARS
			}
			// A more specific level shares the ARS (kreisfreie Stadt,
			// Stadtstaat): it takes the node over.
			order := old.order
			*old = node{Tenant: tn, line: row.line, order: order}
			continue
		}
		nodes[ars] = &node{Tenant: tn, line: row.line, order: i + 1}
	}
	nodes[tenant.Bund] = &node{Tenant: tenant.Tenant{ARS: tenant.Bund, Level: tenant.LevelBund, Name: BundName}, order: 0}

	// Parents: nearest existing node up the lineage.
	for _, n := range nodes {
		if n.ARS == tenant.Bund {
			continue
		}
		for _, cand := range tenant.Lineage(n.ARS)[1:] {
			if _, ok := nodes[cand]; ok {
				n.Parent = cand
				break
			}
		}
		if n.Level > tenant.LevelLand {
			if _, ok := nodes[n.ARS[:2]+zeros[:10]]; !ok {
				warn(n.line, "land", "Land %s of %s is not in the file; parent is %s", n.ARS[:2], n.ARS, n.Parent)
			}
		}
	}
	// Depth for a parents-first order, and sums for the higher levels.
	depth := func(n *node) int {
		d := 0
		for p := n.Parent; p != ""; p = nodes[p].Parent {
			d++
		}
		return d
	}
	all := make([]*node, 0, len(nodes))
	for _, n := range nodes {
		all = append(all, n)
		if n.Level == tenant.LevelGemeinde {
			for p := n.Parent; p != ""; p = nodes[p].Parent {
				nodes[p].Population += n.Population
				nodes[p].Area += n.Area
			}
		}
	}
	depths := make(map[string]int, len(all))
	for _, n := range all {
		depths[n.ARS] = depth(n)
	}
	sort.Slice(all, func(i, j int) bool {
		if depths[all[i].ARS] != depths[all[j].ARS] {
			return depths[all[i].ARS] < depths[all[j].ARS]
		}
		return all[i].order < all[j].order
	})
	out := make([]tenant.Tenant, len(all))
	for i, n := range all {
		if n.Level != tenant.LevelGemeinde {
			n.Area = math.Round(n.Area*100) / 100
			n.Inhabited = n.Population > 0
		}
		out[i] = n.Tenant
	}
	sort.SliceStable(warns, func(i, j int) bool { return warns[i].Line < warns[j].Line })
	return out, warns, nil
}

const zeros = "000000000000"

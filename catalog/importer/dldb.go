// SPDX-License-Identifier: EUPL-1.2

package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"rathaus"
	"rathaus/catalog"
	"rathaus/tenant"
)

// ReadDLDB reads a Dienstleistungsdatenbank (DLDB) export of one
// municipality: the services file and, optionally (nil), the locations file,
// both shaped {"data": […], …}. Both eras seen in practice are accepted: the
// current München export (descriptions, fees, LeiKa keys, meta.keywords,
// location→service lists with appointment links) and the older Berlin export
// (names and service→location lists only).
//
// Everything belongs to tenantARS. A service's Key is its LeiKa key when it
// has one (so it overrides the national LeiKa text for this municipality),
// else "dldb-<id>"; when two services share a LeiKa key the later ones keep
// "dldb-<id>" (warning). SourceID is always the DLDB id. HTML is sanitised
// (bluemonday UGC policy: no scripts, styles or iframes; links get
// rel="nofollow noopener"). Offices get the id "dldb-<id>"; offers come from
// both the location→service and the service→location lists, deduplicated;
// references to ids that are not in the files are skipped with a warning.
func ReadDLDB(services io.Reader, locations io.Reader, tenantARS string) ([]catalog.Service, []catalog.Office, []catalog.Offer, []Warning, error) {
	var srcs []dldbSource
	b, err := readAllUTF8(services, "services")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	srcs = append(srcs, dldbSource{name: "services", data: b, kind: dldbServices})
	if locations != nil {
		b, err := readAllUTF8(locations, "locations")
		if err != nil {
			return nil, nil, nil, nil, err
		}
		srcs = append(srcs, dldbSource{name: "locations", data: b, kind: dldbLocations})
	}
	return readDLDB(tenantARS, srcs)
}

// ReadDLDBFiles is ReadDLDB for files given by path, in any order: each
// file's kind (services, locations, and the Berlin authority and topic
// files) is recognised from the shape of its entries. Authorities name the
// organisation of their locations; topics become keywords of their services.
func ReadDLDBFiles(tenantARS string, paths ...string) ([]catalog.Service, []catalog.Office, []catalog.Offer, []Warning, error) {
	var srcs []dldbSource
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, nil, nil, nil, rathaus.Errorf(rathaus.EINVALID, "%s: cannot open: %v", p, errors.Unwrap(err))
		}
		b, err := readAllUTF8(f, filepath.Base(p))
		f.Close()
		if err != nil {
			return nil, nil, nil, nil, err
		}
		srcs = append(srcs, dldbSource{name: filepath.Base(p), data: b})
	}
	return readDLDB(tenantARS, srcs)
}

type dldbKind int

const (
	dldbUnknown dldbKind = iota
	dldbServices
	dldbLocations
	dldbAuthorities
	dldbTopics
)

func (k dldbKind) String() string {
	return [...]string{"unknown", "services", "locations", "authorities", "topics"}[k]
}

type dldbSource struct {
	name  string
	data  []byte
	kind  dldbKind
	items []dldbItem
}

// dldbItem is one entry of the "data" array and the line it starts on.
type dldbItem struct {
	line int
	raw  json.RawMessage
}

// flexString accepts a JSON string, number, bool or null ("" for false/null).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(strings.TrimSpace(s))
	case string(b) == "null" || string(b) == "false":
		*f = ""
	case string(b) == "true":
		*f = "true"
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n.String())
	}
	return nil
}

// flexFloat accepts a JSON number or a string holding one ("" and null are 0).
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(string(s), ",", "."), 64)
	if err != nil {
		return fmt.Errorf("not a number: %q", string(s))
	}
	*f = flexFloat(v)
	return nil
}

type dldbLink struct {
	Name        string     `json:"name"`
	Link        string     `json:"link"`
	Description flexString `json:"description"`
}

type dldbServiceJSON struct {
	ID            flexString `json:"id"`
	Name          string     `json:"name"`
	Description   string     `json:"description"`
	Fees          string     `json:"fees"`
	Leika         flexString `json:"leika"`
	ProcessTime   string     `json:"process_time"`
	Forms         []dldbLink `json:"forms"`
	Links         []dldbLink `json:"links"`
	Requirements  []dldbLink `json:"requirements"`
	Prerequisites []dldbLink `json:"prerequisites"`
	Legal         []dldbLink `json:"legal"`
	Meta          struct {
		URL        string `json:"url"`
		Keywords   string `json:"keywords"`
		LastUpdate string `json:"lastupdate"`
	} `json:"meta"`
	Relation struct {
		RootTopic flexString `json:"root_topic"`
	} `json:"relation"`
	Locations []struct {
		Location    flexString `json:"location"`
		URL         string     `json:"url"`
		Appointment struct {
			Link string `json:"link"`
		} `json:"appointment"`
	} `json:"locations"`
}

type dldbLocationJSON struct {
	ID               flexString `json:"id"`
	Name             string     `json:"name"`
	DisplayName      string     `json:"displayName"`
	Organization     string     `json:"organization"`
	OrganizationUnit string     `json:"organizationUnit"`
	Authority        struct {
		ID   flexString `json:"id"`
		Name string     `json:"name"`
	} `json:"authority"`
	Address struct {
		Street      flexString `json:"street"`
		HouseNumber flexString `json:"house_number"`
		PostalCode  flexString `json:"postal_code"`
		City        flexString `json:"city"`
	} `json:"address"`
	Geo struct {
		Lat flexFloat `json:"lat"`
		Lon flexFloat `json:"lon"`
	} `json:"geo"`
	Contact struct {
		Email   flexString `json:"email"`
		Phone   flexString `json:"phone"`
		Webinfo flexString `json:"webinfo"`
	} `json:"contact"`
	Meta struct {
		URL flexString `json:"url"`
	} `json:"meta"`
	OpeningTimes json.RawMessage `json:"opening_times"`
	Services     []struct {
		Service     flexString `json:"service"`
		URL         string     `json:"url"`
		Appointment struct {
			Link string `json:"link"`
		} `json:"appointment"`
	} `json:"services"`
}

type dldbAuthorityJSON struct {
	ID   flexString `json:"id"`
	Name string     `json:"name"`
}

type dldbTopicJSON struct {
	ID       flexString `json:"id"`
	Name     string     `json:"name"`
	Relation struct {
		Services []struct {
			ID flexString `json:"id"`
		} `json:"services"`
	} `json:"relation"`
}

// htmlPolicy sanitises imported HTML: user-generated-content rules (no
// scripts, styles, iframes, event handlers), links with rel="nofollow
// noopener" (external ones open in a new tab).
var htmlPolicy = bluemonday.UGCPolicy().RequireNoFollowOnLinks(true).AddTargetBlankToFullyQualifiedLinks(true)

// textPolicy strips all markup.
var textPolicy = bluemonday.StrictPolicy().AddSpaceWhenStrippingTag(true)

var spaces = regexp.MustCompile(`\s+`)

// sanitizeHTML returns s with dangerous markup removed ("" stays "").
func sanitizeHTML(s string) string {
	s = strings.ReplaceAll(s, "\u200b", "")
	return strings.TrimSpace(htmlPolicy.Sanitize(s))
}

// plainText returns the text of an HTML fragment on one line.
func plainText(s string) string {
	s = strings.ReplaceAll(s, "\u200b", "")
	s = html.UnescapeString(textPolicy.Sanitize(s))
	return strings.TrimSpace(spaces.ReplaceAllString(s, " "))
}

// teaser cuts text to at most n runes at a word boundary.
func teaser(text string, n int) string {
	r := []rune(text)
	if len(r) <= n {
		return text
	}
	cut := string(r[:n])
	if i := strings.LastIndexAny(cut, ".!?"); i > n/2 {
		return cut[:i+1]
	}
	if i := strings.LastIndex(cut, " "); i > 0 {
		cut = cut[:i]
	}
	return cut + " …"
}

var berlin = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return l
	}
	return time.UTC
}()

// parseDLDBTime reads "2026-06-08T07:41:01" (German local time) or RFC 3339.
func parseDLDBTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05", s, berlin); err == nil {
		return t.UTC(), true
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04:05", s, berlin); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// splitItems finds the entries of the top-level "data" array.
func (src *dldbSource) splitItems() error {
	b := src.data
	dec := json.NewDecoder(bytes.NewReader(b))
	lineAt := func(off int64) int {
		if off > int64(len(b)) {
			off = int64(len(b))
		}
		return 1 + bytes.Count(b[:off], []byte("\n"))
	}
	fail := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return inputError(src.name, lineAt(se.Offset), "", "invalid JSON: %v", se)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return inputError(src.name, lineAt(int64(len(b))), "", "unexpected end of file (truncated?)")
		}
		return inputError(src.name, lineAt(dec.InputOffset()), "", "invalid JSON: %v", err)
	}
	tok, err := dec.Token()
	if err != nil {
		return fail(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return inputError(src.name, 1, "", "want a JSON object {\"data\": [...]}")
	}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		if tok != "data" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(err)
			}
			continue
		}
		found = true
		tok, err = dec.Token()
		if err != nil {
			return fail(err)
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return inputError(src.name, lineAt(dec.InputOffset()), "data", "want an array")
		}
		for dec.More() {
			start := dec.InputOffset()
			for start < int64(len(b)) && strings.IndexByte(" \t\r\n,", b[start]) >= 0 {
				start++
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fail(err)
			}
			src.items = append(src.items, dldbItem{line: lineAt(start), raw: raw})
		}
		if _, err := dec.Token(); err != nil {
			return fail(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return fail(err)
	}
	if !found {
		return inputError(src.name, 1, "data", "missing the \"data\" array")
	}
	return nil
}

// sniff recognises the kind of file from its first entry.
func (src *dldbSource) sniff() dldbKind {
	if len(src.items) == 0 {
		return dldbUnknown
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(src.items[0].raw, &m) != nil {
		return dldbUnknown
	}
	has := func(k string) bool { _, ok := m[k]; return ok }
	var rel map[string]json.RawMessage
	_ = json.Unmarshal(m["relation"], &rel)
	_, relNavi := rel["navi"]
	_, relRoot := rel["root_topic"]
	switch {
	case has("address"):
		return dldbLocations
	case has("path"):
		return dldbTopics
	case has("description"), has("leika"), has("fees"), relRoot:
		return dldbServices
	case relNavi, has("contact"):
		return dldbAuthorities
	case has("locations"):
		return dldbServices
	}
	return dldbUnknown
}

// decodeItem decodes one entry, turning type errors into file:line errors.
func decodeItem(src *dldbSource, it dldbItem, v any) error {
	if err := json.Unmarshal(it.raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			line := it.line + bytes.Count(it.raw[:min(int(te.Offset), len(it.raw))], []byte("\n"))
			return inputError(src.name, line, te.Field, "want %s, got JSON %s", te.Type, te.Value)
		}
		return inputError(src.name, it.line, "", "%v", err)
	}
	return nil
}

func readDLDB(tenantARS string, srcs []dldbSource) ([]catalog.Service, []catalog.Office, []catalog.Offer, []Warning, error) {
	if !tenant.ValidARS(tenantARS) {
		return nil, nil, nil, nil, rathaus.Errorf(rathaus.EINVALID, "tenant: %q is not a 12-digit ARS", tenantARS)
	}
	var warns []Warning
	warn := func(file string, line int, field, format string, args ...any) {
		warns = append(warns, Warning{File: file, Line: line, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	byKind := map[dldbKind][]*dldbSource{}
	for i := range srcs {
		src := &srcs[i]
		if err := src.splitItems(); err != nil {
			return nil, nil, nil, nil, err
		}
		if len(src.items) == 0 {
			warn(src.name, 0, "data", "no entries")
			continue
		}
		switch sniffed := src.sniff(); {
		case src.kind == dldbUnknown:
			src.kind = sniffed
		case sniffed != dldbUnknown && sniffed != src.kind:
			return nil, nil, nil, nil, inputError(src.name, src.items[0].line, "data", "this looks like a %s file, expected %s", sniffed, src.kind)
		}
		if src.kind == dldbUnknown {
			return nil, nil, nil, nil, inputError(src.name, src.items[0].line, "data", "cannot tell whether this is a services, locations, authority or topic file")
		}
		byKind[src.kind] = append(byKind[src.kind], src)
	}
	if len(byKind[dldbServices]) == 0 {
		return nil, nil, nil, nil, rathaus.Errorf(rathaus.EINVALID, "no DLDB services file among the inputs")
	}

	// Authorities and topics only enrich the others.
	authorities := map[string]string{}
	for _, src := range byKind[dldbAuthorities] {
		for _, it := range src.items {
			var a dldbAuthorityJSON
			if err := decodeItem(src, it, &a); err != nil {
				return nil, nil, nil, nil, err
			}
			if a.ID != "" && a.Name != "" {
				authorities[string(a.ID)] = a.Name
			}
		}
	}
	topicsOf := map[string][]string{}
	topicName := map[string]string{}
	for _, src := range byKind[dldbTopics] {
		for _, it := range src.items {
			var tp dldbTopicJSON
			if err := decodeItem(src, it, &tp); err != nil {
				return nil, nil, nil, nil, err
			}
			topicName[string(tp.ID)] = tp.Name
			for _, s := range tp.Relation.Services {
				topicsOf[string(s.ID)] = append(topicsOf[string(s.ID)], tp.Name)
			}
		}
	}

	// Services.
	type offerRef struct {
		serviceID, locationID, url, file string
		line                             int
	}
	var (
		services  []catalog.Service
		keyOf     = map[string]string{} // DLDB id → service key
		usedLeiKa = map[string]string{} // LeiKa key → DLDB id
		refs      []offerRef
	)
	for _, src := range byKind[dldbServices] {
		for _, it := range src.items {
			var j dldbServiceJSON
			if err := decodeItem(src, it, &j); err != nil {
				return nil, nil, nil, nil, err
			}
			id := string(j.ID)
			if id == "" || strings.ContainsAny(id, " /\t\n") {
				return nil, nil, nil, nil, inputError(src.name, it.line, "id", "missing or malformed service id %q", id)
			}
			name := strings.TrimSpace(j.Name)
			if name == "" {
				return nil, nil, nil, nil, inputError(src.name, it.line, "name", "service %s has no name", id)
			}
			if _, dup := keyOf[id]; dup {
				warn(src.name, it.line, "id", "service %s appears again; first kept", id)
				continue
			}
			s := catalog.Service{
				Tenant:   tenantARS,
				Source:   "dldb",
				SourceID: id,
				Key:      "dldb-" + id,
				Name:     name,
				Fees:     sanitizeHTML(j.Fees),
				Duration: strings.TrimSpace(j.ProcessTime),
				URL:      strings.ReplaceAll(strings.TrimSpace(j.Meta.URL), "{serviceId}", id),
			}
			// Some entries list several keys ("99036008007003, 99036008007004"):
			// the first one names the service.
			l, _, _ := strings.Cut(string(j.Leika), ",")
			switch l = strings.TrimSpace(l); {
			case digits(l, 14):
				s.LeiKa = l
				if other, used := usedLeiKa[l]; used {
					warn(src.name, it.line, "leika", "LeiKa key %s is also used by service %s; this one keeps the key dldb-%s", l, other, id)
				} else {
					usedLeiKa[l] = id
					s.Key = l
				}
			case l != "":
				warn(src.name, it.line, "leika", "%q is not a 14-digit LeiKa key; ignored", l)
			}
			desc := j.Description
			desc += linkList("Formulare", j.Forms)
			desc += linkList("Weiterführende Informationen", j.Links)
			s.Description = sanitizeHTML(desc)
			s.Summary = teaser(plainText(j.Description), 300)
			for _, r := range j.Requirements {
				if d := plainText(r.Name); d != "" {
					s.Documents = append(s.Documents, d)
				}
			}
			if len(j.Prerequisites) > 0 {
				s.Prerequisites = sanitizeHTML(linkList("", j.Prerequisites))
			}
			var legal []string
			for _, l := range j.Legal {
				if n := plainText(l.Name); n != "" {
					legal = append(legal, n)
				}
			}
			s.LegalBasis = strings.Join(legal, "; ")
			for _, k := range strings.Split(j.Meta.Keywords, ",") {
				if k = strings.TrimSpace(k); k != "" {
					s.Keywords = appendNew(s.Keywords, k)
				}
			}
			if n := topicName[string(j.Relation.RootTopic)]; n != "" {
				s.Keywords = appendNew(s.Keywords, n)
			}
			s.Keywords = appendNew(s.Keywords, topicsOf[id]...)
			t, ok := parseDLDBTime(j.Meta.LastUpdate)
			if !ok {
				warn(src.name, it.line, "meta.lastupdate", "unreadable date %q ignored", j.Meta.LastUpdate)
			}
			s.UpdatedAt = t
			keyOf[id] = s.Key
			services = append(services, s)
			for _, l := range j.Locations {
				url := l.Appointment.Link
				if url == "" {
					url = l.URL
				}
				refs = append(refs, offerRef{id, string(l.Location), url, src.name, it.line})
			}
		}
	}

	// Offices.
	var offices []catalog.Office
	officeIDs := map[string]bool{}
	for _, src := range byKind[dldbLocations] {
		for _, it := range src.items {
			var j dldbLocationJSON
			if err := decodeItem(src, it, &j); err != nil {
				return nil, nil, nil, nil, err
			}
			id := string(j.ID)
			if id == "" || strings.ContainsAny(id, " /\t\n") {
				return nil, nil, nil, nil, inputError(src.name, it.line, "id", "missing or malformed location id %q", id)
			}
			if officeIDs[id] {
				warn(src.name, it.line, "id", "location %s appears again; first kept", id)
				continue
			}
			o := catalog.Office{
				Tenant:      tenantARS,
				ID:          "dldb-" + id,
				Name:        strings.TrimSpace(j.DisplayName),
				Street:      string(j.Address.Street),
				HouseNumber: string(j.Address.HouseNumber),
				PostalCode:  string(j.Address.PostalCode),
				City:        string(j.Address.City),
				Phone:       string(j.Contact.Phone),
				Email:       string(j.Contact.Email),
				URL:         string(j.Contact.Webinfo),
				Lat:         float64(j.Geo.Lat),
				Lon:         float64(j.Geo.Lon),
			}
			if o.Name == "" {
				o.Name = strings.TrimSpace(j.Name)
			}
			if o.Name == "" {
				return nil, nil, nil, nil, inputError(src.name, it.line, "name", "location %s has no name", id)
			}
			if o.URL == "" {
				o.URL = strings.ReplaceAll(string(j.Meta.URL), "{locationId}", id)
			}
			var org []string
			for _, s := range []string{j.Organization, j.OrganizationUnit} {
				if s = strings.TrimSpace(s); s != "" {
					org = append(org, s)
				}
			}
			if len(org) == 0 {
				if n := j.Authority.Name; n != "" {
					org = append(org, n)
				} else if n := authorities[string(j.Authority.ID)]; n != "" {
					org = append(org, n)
				}
			}
			o.Organization = strings.Join(org, ", ")
			o.OpeningHours = openingHours(j.OpeningTimes)
			officeIDs[id] = true
			offices = append(offices, o)
			for _, s := range j.Services {
				url := s.Appointment.Link
				if url == "" {
					url = s.URL
				}
				refs = append(refs, offerRef{string(s.Service), id, url, src.name, it.line})
			}
		}
	}
	// The 2016 Berlin export has one placeholder position for every office.
	if len(offices) > 1 {
		same := true
		for _, o := range offices[1:] {
			if o.Lat != offices[0].Lat || o.Lon != offices[0].Lon {
				same = false
				break
			}
		}
		if same && (offices[0].Lat != 0 || offices[0].Lon != 0) {
			warn(byKind[dldbLocations][0].name, 0, "geo", "all %d locations share the position %v,%v (a placeholder); positions dropped", len(offices), offices[0].Lat, offices[0].Lon)
			for i := range offices {
				offices[i].Lat, offices[i].Lon = 0, 0
			}
		}
	}

	// Offers from both directions, deduplicated; dangling ids skipped.
	var offers []catalog.Offer
	if len(byKind[dldbLocations]) == 0 {
		if len(refs) > 0 {
			warn(byKind[dldbServices][0].name, 0, "locations", "no locations file given: %d service→location references skipped (no offices, no offers)", len(refs))
		}
		refs = nil
	}
	seen := map[[2]string]int{}
	missingLoc, missingSvc := map[string]bool{}, map[string]bool{}
	for _, r := range refs {
		key, okS := keyOf[r.serviceID]
		okL := officeIDs[r.locationID]
		if !okS {
			missingSvc[r.serviceID] = true
		}
		if !okL {
			missingLoc[r.locationID] = true
		}
		if !okS || !okL {
			continue
		}
		k := [2]string{key, "dldb-" + r.locationID}
		if i, dup := seen[k]; dup {
			if offers[i].URL == "" {
				offers[i].URL = r.url
			}
			continue
		}
		seen[k] = len(offers)
		offers = append(offers, catalog.Offer{Tenant: tenantARS, ServiceKey: key, OfficeID: "dldb-" + r.locationID, URL: r.url})
	}
	if len(missingLoc) > 0 {
		warn(byKind[dldbLocations][0].name, 0, "locations", "%d referenced location ids are not in the locations file (%s); their offers are skipped", len(missingLoc), sample(missingLoc))
	}
	if len(missingSvc) > 0 {
		warn(byKind[dldbServices][0].name, 0, "services", "%d referenced service ids are not in the services file (%s); their offers are skipped", len(missingSvc), sample(missingSvc))
	}
	return services, offices, offers, warns, nil
}

// sample lists up to five ids of set, sorted.
func sample(set map[string]bool) string {
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(ids) > 5 {
		return strings.Join(ids[:5], ", ") + ", …"
	}
	return strings.Join(ids, ", ")
}

// linkList renders DLDB links as an HTML list under a heading.
func linkList(heading string, links []dldbLink) string {
	var b strings.Builder
	for _, l := range links {
		name := strings.TrimSpace(l.Name)
		if name == "" {
			name = l.Link
		}
		if name == "" {
			continue
		}
		b.WriteString("<li>")
		if l.Link != "" {
			fmt.Fprintf(&b, `<a href="%s">%s</a>`, html.EscapeString(l.Link), html.EscapeString(name))
		} else {
			b.WriteString(html.EscapeString(name))
		}
		if d := string(l.Description); d != "" && d != "true" {
			b.WriteString(": " + d)
		}
		b.WriteString("</li>")
	}
	if b.Len() == 0 {
		return ""
	}
	h := ""
	if heading != "" {
		h = "<h3>" + html.EscapeString(heading) + "</h3>"
	}
	return h + "<ul>" + b.String() + "</ul>"
}

// openingHours formats a DLDB opening_times object ({"monday": "8-12", …})
// as "Montag: 8-12; …"; anything else yields "".
func openingHours(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var m map[string]flexString
	if json.Unmarshal(raw, &m) != nil {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return plainText(s)
		}
		return ""
	}
	days := []struct{ key, de string }{
		{"monday", "Montag"}, {"tuesday", "Dienstag"}, {"wednesday", "Mittwoch"},
		{"thursday", "Donnerstag"}, {"friday", "Freitag"}, {"saturday", "Samstag"}, {"sunday", "Sonntag"},
		{"special", "Hinweis"},
	}
	var parts []string
	for _, d := range days {
		if v := plainText(string(m[d.key])); v != "" {
			parts = append(parts, d.de+": "+v)
		}
	}
	return strings.Join(parts, "; ")
}

// FillFromNational completes a municipal service with what the national
// LeiKa entry of the same key knows and the municipal export lacks:
// Typisierung, OZG id and name, Lebenslagen, Themenfeld and legal basis.
// Fields the municipality filled stay as they are; keywords are merged.
func FillFromNational(s *catalog.Service, national catalog.Service) {
	fill := func(d *string, v string) {
		if *d == "" {
			*d = v
		}
	}
	fill(&s.Typisierung, national.Typisierung)
	fill(&s.OZGID, national.OZGID)
	fill(&s.OZGName, national.OZGName)
	fill(&s.Themenfeld, national.Themenfeld)
	fill(&s.LegalBasis, national.LegalBasis)
	if len(s.Lebenslagen) == 0 {
		s.Lebenslagen = append([]string(nil), national.Lebenslagen...)
	}
	s.Keywords = appendNew(s.Keywords, national.Keywords...)
}

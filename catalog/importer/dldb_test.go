// SPDX-License-Identifier: EUPL-1.2

package importer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rathaus"
	"rathaus/catalog"
	"rathaus/catalog/importer"
	"rathaus/internal/testenv"
)

// dldbServicesJSON and dldbLocationsJSON are our own small fixtures in the
// shape of the München export.
const dldbServicesJSON = `{"data": [
  {"id": "1001", "name": "Hund anmelden", "leika": "99036011011000",
   "description": "<p>Melden Sie Ihren Hund an.<script>alert(1)</script></p><iframe src=\"https://evil.example\"></iframe><a href=\"https://example.org/info\" onclick=\"x()\">Info</a><a href=\"javascript:alert(2)\">böse</a><style>p{}</style>",
   "fees": "<p>Demo: 75 Euro</p>",
   "meta": {"url": "https://example.org/services/{serviceId}", "keywords": "Hundesteuer, Hund, , Hundesteuer", "lastupdate": "2026-06-08T07:41:01"},
   "forms": [{"name": "Antrag", "link": "https://example.org/antrag.pdf", "description": false}],
   "requirements": [{"name": "Personalausweis"}, {"name": "Nachweis der Haftpflicht"}],
   "locations": [{"location": "20", "url": "https://example.org/s/1001/l/20"}]},
  {"id": 1002, "name": "Zweiter Hund", "leika": "99036011011000", "locations": []},
  {"id": "1003", "name": "Ohne Schlüssel", "leika": null, "locations": [{"location": "99"}]}
], "meta": {"datacount": 3}}`

const dldbLocationsJSON = `{"data": [
  {"id": "20", "name": "Bürgerbüro Mitte (BB-1)", "displayName": "Bürgerbüro Mitte", "organization": "Stadt Demo", "organizationUnit": "Ordnungsamt",
   "address": {"street": "Markt", "house_number": "1", "postal_code": "12345", "city": "Demo"},
   "geo": {"lat": "49.87", "lon": 8.65}, "contact": {"email": "bb@example.org", "phone": "0123 4", "webinfo": ""},
   "meta": {"url": "https://example.org/locations/{locationId}"},
   "opening_times": {"monday": "08:00-12:00", "thursday": "14:00-18:00"},
   "services": [{"service": "1001", "url": "https://example.org/x"}, {"service": "1003"}, {"service": "4711"}]}
]}`

func TestReadDLDB(t *testing.T) {
	ss, os_, of, warns, err := importer.ReadDLDB(strings.NewReader(dldbServicesJSON), strings.NewReader(dldbLocationsJSON), "064110000000")
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 3 || len(os_) != 1 || len(of) != 2 {
		t.Fatalf("got %d services, %d offices, %d offers", len(ss), len(os_), len(of))
	}
	hund := ss[0]
	if hund.Key != "99036011011000" || hund.LeiKa != "99036011011000" || hund.SourceID != "1001" || hund.Source != "dldb" || hund.Tenant != "064110000000" {
		t.Errorf("keys of the first service = %+v", hund)
	}
	for _, bad := range []string{"<script", "alert", "<iframe", "onclick", "<style", "javascript:"} {
		if strings.Contains(hund.Description, bad) {
			t.Errorf("description keeps %q: %s", bad, hund.Description)
		}
	}
	for _, good := range []string{"<p>Melden Sie Ihren Hund an.</p>", `rel="nofollow noopener"`, `href="https://example.org/antrag.pdf"`, "<h3>Formulare</h3>"} {
		if !strings.Contains(hund.Description, good) {
			t.Errorf("description lacks %q: %s", good, hund.Description)
		}
	}
	if d := cmp.Diff([]string{"Hundesteuer", "Hund"}, hund.Keywords); d != "" {
		t.Errorf("keywords (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"Personalausweis", "Nachweis der Haftpflicht"}, hund.Documents); d != "" {
		t.Errorf("documents (-want +got):\n%s", d)
	}
	if hund.Summary != "Melden Sie Ihren Hund an. Info böse" || hund.Fees != "<p>Demo: 75 Euro</p>" || hund.URL != "https://example.org/services/1001" {
		t.Errorf("summary %q fees %q url %q", hund.Summary, hund.Fees, hund.URL)
	}
	if want := time.Date(2026, 6, 8, 5, 41, 1, 0, time.UTC); !hund.UpdatedAt.Equal(want) {
		t.Errorf("UpdatedAt = %v, want %v (local German summer time)", hund.UpdatedAt, want)
	}
	if ss[1].Key != "dldb-1002" || ss[1].LeiKa != "99036011011000" || ss[2].Key != "dldb-1003" {
		t.Errorf("keys = %s %s", ss[1].Key, ss[2].Key)
	}
	wantOffice := catalog.Office{Tenant: "064110000000", ID: "dldb-20", Name: "Bürgerbüro Mitte", Organization: "Stadt Demo, Ordnungsamt",
		Street: "Markt", HouseNumber: "1", PostalCode: "12345", City: "Demo", Phone: "0123 4", Email: "bb@example.org",
		URL: "https://example.org/locations/20", OpeningHours: "Montag: 08:00-12:00; Donnerstag: 14:00-18:00", Lat: 49.87, Lon: 8.65}
	if d := cmp.Diff(wantOffice, os_[0]); d != "" {
		t.Errorf("office (-want +got):\n%s", d)
	}
	wantOffers := []catalog.Offer{
		{Tenant: "064110000000", ServiceKey: "99036011011000", OfficeID: "dldb-20", URL: "https://example.org/s/1001/l/20"},
		{Tenant: "064110000000", ServiceKey: "dldb-1003", OfficeID: "dldb-20"},
	}
	if d := cmp.Diff(wantOffers, of); d != "" {
		t.Errorf("offers (-want +got):\n%s", d)
	}
	var reasons []string
	for _, w := range warns {
		reasons = append(reasons, w.String())
	}
	if len(warns) != 3 || !strings.Contains(reasons[0], "services:9: leika: LeiKa key 99036011011000 is also used by service 1001") ||
		!strings.Contains(reasons[1], "1 referenced location ids") || !strings.Contains(reasons[2], "(4711)") {
		t.Errorf("warnings:\n%s", strings.Join(reasons, "\n"))
	}

	t.Run("Swapped", func(t *testing.T) {
		_, _, _, _, err := importer.ReadDLDB(strings.NewReader(dldbLocationsJSON), strings.NewReader(dldbServicesJSON), "064110000000")
		if msg := rathaus.ErrorMessage(err); msg != "services:2: data: this looks like a locations file, expected services" {
			t.Errorf("err = %q", msg)
		}
	})
	t.Run("WithoutLocations", func(t *testing.T) {
		ss, os_, of, warns, err := importer.ReadDLDB(strings.NewReader(dldbServicesJSON), nil, "064110000000")
		if err != nil || len(ss) != 3 || len(os_) != 0 || len(of) != 0 {
			t.Fatalf("%d %d %d %v", len(ss), len(os_), len(of), err)
		}
		if len(warns) != 2 || !strings.Contains(warns[1].Reason, "no locations file") {
			t.Errorf("warnings = %v", warns)
		}
	})
}

func TestReadDLDBErrors(t *testing.T) {
	tests := []struct{ name, services, tenant, want string }{
		{"Truncated", dldbServicesJSON[:200], "064110000000", "services:3: unexpected end of file"},
		{"NoData", `{"items": []}`, "064110000000", "services:1: data: missing the \"data\" array"},
		{"NotObject", `[1,2]`, "064110000000", "services:1: want a JSON object"},
		{"Syntax", "{\"data\": [\n{\"id\": \"1\",, }]}", "064110000000", "services:2: invalid JSON"},
		{"TypeError", "{\"data\": [\n{\"id\": \"1\", \"name\": \"A\",\n \"locations\": {\"x\": 1}}]}", "064110000000", "services:3: locations: want"},
		{"NoName", "{\"data\": [{\"id\": \"1\", \"name\": \" \", \"locations\": []}]}", "064110000000", "services:1: name: service 1 has no name"},
		{"NoID", "{\"data\": [{\"name\": \"A\", \"locations\": []}]}", "064110000000", "services:1: id: missing"},
		{"BadTenant", dldbServicesJSON, "0641", "tenant: \"0641\" is not a 12-digit ARS"},
		{"Latin1", "{\"data\": [{\"id\": \"1\", \"name\": \"Geb\xfchr\"}]}", "064110000000", "services:1: not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss, _, _, _, err := importer.ReadDLDB(strings.NewReader(tt.services), nil, tt.tenant)
			if err == nil || ss != nil {
				t.Fatalf("got %d services, err %v; want an error", len(ss), err)
			}
			if msg := rathaus.ErrorMessage(err); rathaus.ErrorCode(err) != rathaus.EINVALID || !strings.HasPrefix(msg, tt.want) {
				t.Errorf("error %q (%s), want prefix %q", msg, rathaus.ErrorCode(err), tt.want)
			}
		})
	}
}

func TestReadDLDBMuenchen(t *testing.T) {
	svc := testenv.SharedData(t, "chatbot/muenchen-dldb/services_de.dev.json")
	loc := testenv.SharedData(t, "chatbot/muenchen-dldb/locations_de.json")
	ss, offices, offers, warns, err := importer.ReadDLDBFiles("091620000000", loc, svc)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 287 || len(offices) != 109 || len(offers) != 526 {
		t.Errorf("got %d services, %d offices, %d offers; want 287, 109, 526", len(ss), len(offices), len(offers))
	}
	withLeiKa, byKey := 0, map[string]catalog.Service{}
	for _, s := range ss {
		if s.LeiKa != "" {
			withLeiKa++
		}
		if _, dup := byKey[s.Key]; dup {
			t.Errorf("duplicate key %s", s.Key)
		}
		byKey[s.Key] = s
		if strings.Contains(s.Description, "<script") {
			t.Errorf("%s keeps a script", s.Key)
		}
	}
	if withLeiKa != 132 {
		t.Errorf("%d services with a LeiKa key, want 132", withLeiKa)
	}
	// 24 services share a LeiKa key with an earlier one.
	if len(warns) != 24 {
		t.Errorf("%d warnings, want 24: %v", len(warns), warns)
	}
	g := byKey["99050012104000"]
	if g.Name != "Gewerbe-Anmeldung" || g.SourceID != "1063423" || !strings.HasPrefix(g.Fees, "<p>50 bis 60 Euro") ||
		!strings.HasPrefix(g.Summary, "Sie haben eine gewerbliche Niederlassung") || len(g.Keywords) != 5 || g.Keywords[2] != "Gewerbeanmeldung" {
		t.Errorf("Gewerbe-Anmeldung = %+v", g)
	}
	var gewerbeamt catalog.Office
	for _, o := range offices {
		if o.ID == "dldb-10546" {
			gewerbeamt = o
		}
	}
	if gewerbeamt.Name != "Gewerbeamt" || gewerbeamt.Street != "Implerstraße" || gewerbeamt.PostalCode != "81371" || gewerbeamt.Lat < 48 || gewerbeamt.Lat > 48.2 {
		t.Errorf("Gewerbeamt = %+v", gewerbeamt)
	}
	found := false
	for _, o := range offers {
		if o.ServiceKey == "99050012104000" && o.OfficeID == "dldb-10546" && strings.HasSuffix(o.URL, "/services/1063423/locations/10546") {
			found = true
		}
	}
	if !found {
		t.Errorf("no offer of Gewerbe-Anmeldung at the Gewerbeamt")
	}
}

func TestReadDLDBBerlin(t *testing.T) {
	dir := testenv.SharedData(t, "chatbot/berlin-dldb")
	ss, offices, offers, warns, err := importer.ReadDLDBFiles("110000000000",
		dir+"/services_de_2017.json", dir+"/locations_de_2016.json", dir+"/authority_de_2016.json", dir+"/topic_de_2016.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 653 || len(offices) != 496 {
		t.Errorf("got %d services, %d offices; want 653, 496", len(ss), len(offices))
	}
	// 7174 distinct pairs, minus those naming ids missing from the other file.
	if len(offers) != 5896 {
		t.Errorf("got %d offers, want 5896", len(offers))
	}
	if len(warns) != 3 {
		t.Errorf("warnings: %v", warns)
	}
	abm := ss[0]
	if abm.Key != "dldb-120335" || abm.Name != "Abmeldung einer Wohnung" || abm.URL != "https://service.berlin.de/dienstleistung/120335/" {
		t.Errorf("first service = %+v", abm)
	}
	if d := cmp.Diff([]string{"Meldewesen und Ordnung", "Meldeangelegenheiten"}, abm.Keywords); d != "" {
		t.Errorf("topic keywords (-want +got):\n%s", d)
	}
	var tiergarten catalog.Office
	for _, o := range offices {
		if o.ID == "dldb-122282" {
			tiergarten = o
		}
	}
	if tiergarten.Name != "Bürgeramt Rathaus Tiergarten" || tiergarten.Organization != "Bezirksamt Mitte" || tiergarten.PostalCode != "10551" || tiergarten.Lat != 0 {
		t.Errorf("Bürgeramt Tiergarten = %+v", tiergarten)
	}
}

func FuzzReadDLDB(f *testing.F) {
	f.Add(dldbServicesJSON, dldbLocationsJSON)
	f.Add(`{"data":[{"id":1,"name":"x","leika":"1,2","locations":[{"location":2}]}]}`, `{"data":[{"id":2,"name":"y","address":{},"geo":{"lat":"a"}}]}`)
	f.Fuzz(func(t *testing.T, services, locations string) {
		ss, offices, offers, _, err := importer.ReadDLDB(strings.NewReader(services), strings.NewReader(locations), "064110000000")
		if err != nil {
			if rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Fatalf("code %q: %v", rathaus.ErrorCode(err), err)
			}
			return
		}
		keys, ids := map[string]bool{}, map[string]bool{}
		for _, s := range ss {
			if keys[s.Key] || s.Name == "" {
				t.Fatalf("bad service %+v", s)
			}
			keys[s.Key] = true
		}
		for _, o := range offices {
			ids[o.ID] = true
		}
		for _, o := range offers {
			if !keys[o.ServiceKey] || !ids[o.OfficeID] {
				t.Fatalf("dangling offer %+v", o)
			}
		}
	})
}

func TestFillFromNational(t *testing.T) {
	local := catalog.Service{Key: "99050012104000", Name: "Gewerbe-Anmeldung", LegalBasis: "§ 14 GewO", Keywords: []string{"Gewerbe"}}
	national := catalog.Service{Key: "99050012104000", Name: "Gewerbe Anmeldung", Typisierung: "2/3", OZGID: "10294", OZGName: "Unternehmensanmeldung",
		Lebenslagen: []string{"Unternehmensstart & Gewerbezulassung"}, Themenfeld: "Unternehmensführung & -entwicklung", LegalBasis: "Gewerbeordnung", Keywords: []string{"gewerbe", "GewO"}}
	importer.FillFromNational(&local, national)
	want := catalog.Service{Key: "99050012104000", Name: "Gewerbe-Anmeldung", LegalBasis: "§ 14 GewO", Keywords: []string{"Gewerbe", "GewO"},
		Typisierung: "2/3", OZGID: "10294", OZGName: "Unternehmensanmeldung", Lebenslagen: []string{"Unternehmensstart & Gewerbezulassung"}, Themenfeld: "Unternehmensführung & -entwicklung"}
	if d := cmp.Diff(want, local); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

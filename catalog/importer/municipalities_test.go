// SPDX-License-Identifier: EUPL-1.2

package importer_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"rathaus"
	"rathaus/catalog/importer"
	"rathaus/internal/testenv"
	"rathaus/tenant"
)

const gvHeader = "\uFEFFsatzart,textkennzeichen,land,rb,kreis,vb,gemeinde,gemeindename,flaeche,bevoelkerung,maennlich,weiblich,jekm2,postleitzahl,laengengrad,breitengrad,schluessel,bezeichnung,verstaedterungschluessel,verstaedterungbezeichnung\n"

// gvSmall is our own fixture in the shape of the GV-ISys extract.
const gvSmall = gvHeader +
	"10,,06,,,,,Hessen,,,,,,,,,,,,\n" +
	"20,,06,4,,,,Reg.-Bez. Darmstadt,,,,,,,,,,,,\n" +
	"40,41,06,4,11,,,\"Darmstadt, Wissenschaftsstadt\",,,,,,,,,,,,\n" +
	"50,50,06,4,11,0000,,\"Darmstadt, Wissenschaftsstadt\",,,,,,,,,,,,\n" +
	"60,61,06,4,11,0000,000,\"Darmstadt, Wissenschaftsstadt\", 122.07, 159 878, 80 000, 79 878, 1 310,64283,\"8,65\",\"49,87\",X,Y,01,dicht besiedelt\n" +
	"40,44,06,4,32,,,Darmstadt-Dieburg,,,,,,,,,,,,\n" +
	"50,50,06,4,32,0001,,\"Alsbach-Hähnlein\",,,,,,,,,,,,\n" +
	"60,64,06,4,32,0001,001,\"Alsbach-Hähnlein\", 16.4, 9 300, 4 600, 4 700, 567,64665,\"8,61\",\"49,74\",X,Y,02,mittel\n" +
	"60,66,06,4,32,0001,901,\"Forst, gemfr. Gebiet\", 3.5,  0,  0,  0,  0,,\"8,6\",\"49,7\",X,Y,03,gering\n" +
	"10,,11,,,,,Berlin,,,,,,,,,,,,\n" +
	"40,41,11,0,00,,,\"Berlin, Stadt\",,,,,,,,,,,,\n" +
	"50,50,11,0,00,0000,,\"Berlin, Stadt\",,,,,,,,,,,,\n" +
	"60,61,11,0,00,0000,000,\"Berlin, Stadt\", 891.12,3 669 491, 1, 1, 4 118,10178,\"13,40\",\"52,52\",X,Y,01,dicht\n" +
	"10,,08,,,,,Baden-Württemberg,,,,,,,,,,,,\n" +
	"20,,08,1,,,,Reg.-Bez. Stuttgart,,,,,,,,,,,,\n" +
	"30,,08,1,1,,,Region Stuttgart,,,,,,,,,,,,\n" +
	"40,41,08,1,11,,,\"Stuttgart, Landeshauptstadt\",,,,,,,,,,,,\n"

func TestReadMunicipalities(t *testing.T) {
	ts, warns, err := importer.ReadMunicipalities(strings.NewReader(gvSmall), "small.csv")
	if err != nil {
		t.Fatal(err)
	}
	byARS := map[string]tenant.Tenant{}
	for i, tn := range ts {
		byARS[tn.ARS] = tn
		if tn.Parent != "" {
			if _, ok := byARS[tn.Parent]; !ok {
				t.Errorf("%s (position %d) comes before its parent %s", tn.ARS, i, tn.Parent)
			}
		}
	}
	if ts[0].ARS != tenant.Bund || ts[0].Name != importer.BundName {
		t.Errorf("first = %+v, want the Bund root", ts[0])
	}
	tests := []struct {
		ars, parent, name, ags, plz string
		level                       tenant.Level
		pop                         int
		inhabited                   bool
	}{
		{"060000000000", tenant.Bund, "Hessen", "", "", tenant.LevelLand, 159878 + 9300, true},
		{"064000000000", "060000000000", "Reg.-Bez. Darmstadt", "", "", tenant.LevelRegierungsbezirk, 169178, true},
		{"064110000000", "064000000000", "Darmstadt, Wissenschaftsstadt", "06411000", "64283", tenant.LevelGemeinde, 159878, true},
		{"064320000000", "064000000000", "Darmstadt-Dieburg", "", "", tenant.LevelKreis, 9300, true},
		{"064320001000", "064320000000", "Alsbach-Hähnlein", "", "", tenant.LevelGemeindeverband, 9300, true},
		{"064320001001", "064320001000", "Alsbach-Hähnlein", "06432001", "64665", tenant.LevelGemeinde, 9300, true},
		{"064320001901", "064320001000", "Forst, gemfr. Gebiet", "06432901", "", tenant.LevelGemeinde, 0, false},
		{"110000000000", tenant.Bund, "Berlin, Stadt", "11000000", "10178", tenant.LevelGemeinde, 3669491, true},
		{"081110000000", "081000000000", "Stuttgart, Landeshauptstadt", "", "", tenant.LevelKreis, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.ars, func(t *testing.T) {
			got, ok := byARS[tt.ars]
			if !ok {
				t.Fatalf("missing")
			}
			if got.Parent != tt.parent || got.Name != tt.name || got.AGS != tt.ags || got.PLZ != tt.plz ||
				got.Level != tt.level || got.Population != tt.pop || got.Inhabited != tt.inhabited {
				t.Errorf("got %+v\nwant %+v", got, tt)
			}
		})
	}
	if d := byARS["064110000000"]; d.Lat != 49.87 || d.Lon != 8.65 || d.Area != 122.07 {
		t.Errorf("Darmstadt geo/area = %v %v %v", d.Lat, d.Lon, d.Area)
	}
	if len(ts) != 12 {
		t.Errorf("got %d nodes, want 12", len(ts))
	}
	if len(warns) != 1 || warns[0].Line != 17 || warns[0].Field != "satzart" {
		t.Errorf("warnings = %v, want one for the Region on line 17", warns)
	}
}

func TestReadMunicipalitiesErrors(t *testing.T) {
	lines := strings.SplitAfter(gvSmall, "\n")
	tests := []struct {
		name, input, want string
	}{
		{"Latin1", gvHeader + "10,,06,,,,,Hessen,,,,,,,,,,,,\n60,64,06,4,32,0001,001,M\xfchltal, 1, 1, 1, 1, 1,64665,\"8,6\",\"49,7\",X,Y,02,m\n", "x.csv:3: not valid UTF-8"},
		{"Truncated", strings.Join(lines[:5], "") + "60,61,06,4,11,0000,000,\"Darmstadt\", 122.07, 159 8", "x.csv:6: row: wrong number of columns"},
		{"TruncatedQuote", strings.Join(lines[:5], "") + "60,61,06,4,11,0000,000,\"Darmst", "x.csv:6"},
		{"ShortRow", gvHeader + "10,,06,,,,Hessen\n", "x.csv:2: row: wrong number of columns"},
		{"DuplicateARS", gvHeader + "10,,06,,,,,Hessen,,,,,,,,,,,,\n10,,06,,,,,Hessen,,,,,,,,,,,,\n", "x.csv:3: ars: duplicate ARS 060000000000 (first on line 2)"},
		{"MissingColumn", strings.Replace(gvSmall, ",postleitzahl,", ",", 1), "x.csv:1: header: missing column \"postleitzahl\""},
		{"UnknownColumn", strings.Replace(gvSmall, "bezeichnung,", "bezeichnung,extra,", 1), "x.csv:1: header: unknown column \"extra\""},
		{"BadKey", gvHeader + "40,41,06,4,1x,,,K,,,,,,,,,,,,\n", "x.csv:2: kreis: want 2 digits, got \"1x\""},
		{"BadSatzart", gvHeader + "70,,06,,,,,Hessen,,,,,,,,,,,,\n", "x.csv:2: satzart: unknown Satzart \"70\""},
		{"BadPopulation", gvHeader + "60,64,06,4,32,0001,001,A, 1,1O0, 1, 1, 1,64665,\"8,6\",\"49,7\",X,Y,02,m\n", "x.csv:2: bevoelkerung: not a number"},
		{"BadLatitude", gvHeader + "60,64,06,4,32,0001,001,A, 1,100, 1, 1, 1,64665,\"8,6\",\"99,7\",X,Y,02,m\n", "x.csv:2: breitengrad: not a latitude"},
		{"LandZero", gvHeader + "10,,00,,,,,Nirgendwo,,,,,,,,,,,,\n", "x.csv:2: land: \"00\" is no Land"},
		{"LandZeroGemeinde", gvHeader + "60,64,00,0,00,0000,000,A, 1,100, 1, 1, 1,64665,\"8,6\",\"49,7\",X,Y,02,m\n", "x.csv:2: land: \"00\" is no Land"},
		{"Empty", "", "x.csv:1: header: empty file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _, err := importer.ReadMunicipalities(strings.NewReader(tt.input), "x.csv")
			if err == nil {
				t.Fatalf("no error, %d tenants", len(ts))
			}
			if ts != nil {
				t.Errorf("returned %d tenants with the error", len(ts))
			}
			if rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Errorf("code = %q, want invalid", rathaus.ErrorCode(err))
			}
			if msg := rathaus.ErrorMessage(err); !strings.HasPrefix(msg, tt.want) {
				t.Errorf("message = %q\nwant prefix %q", msg, tt.want)
			}
		})
	}
}

func TestReadMunicipalitiesRealFile(t *testing.T) {
	path := testenv.SharedData(t, "gemeinden/AuszugGV4QAktuell_raw.csv")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ts, warns, err := importer.ReadMunicipalities(bytes.NewReader(b), "AuszugGV4QAktuell_raw.csv")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("parsed %d nodes in %v, %d warnings", len(ts), time.Since(start), len(warns))
	levels := map[tenant.Level]int{}
	uninhabited := 0
	byARS := map[string]tenant.Tenant{}
	for _, tn := range ts {
		levels[tn.Level]++
		byARS[tn.ARS] = tn
		if tn.Level == tenant.LevelGemeinde && !tn.Inhabited {
			uninhabited++
		}
		if tn.Level == tenant.LevelGemeinde && tn.Parent == "" {
			t.Errorf("Gemeinde %s has no parent", tn.ARS)
		}
	}
	if levels[tenant.LevelGemeinde] != 11004 {
		t.Errorf("Gemeinden = %d, want 11004", levels[tenant.LevelGemeinde])
	}
	if uninhabited != 208 {
		t.Errorf("uninhabited Gemeinden = %d, want 208", uninhabited)
	}
	// Berlin and Hamburg are Land and Gemeinde at once: 16 - 2 Länder nodes.
	if levels[tenant.LevelLand] != 14 || levels[tenant.LevelBund] != 1 || levels[tenant.LevelRegierungsbezirk] != 29 {
		t.Errorf("levels = %v", levels)
	}
	if len(warns) != 12 {
		t.Errorf("got %d warnings, want 12 (the BW Regionen): %v", len(warns), warns)
	}
	for _, tt := range []struct{ ars, parent, name, plz string }{
		{"010010000000", "010000000000", "Flensburg, Stadt", "24937"},
		{"064110000000", "064000000000", "Darmstadt, Wissenschaftsstadt", "64283"},
		{"091620000000", "091000000000", "München, Landeshauptstadt", "80313"},
		{"110000000000", tenant.Bund, "Berlin, Stadt", "10178"},
		{"010515163003", "010515163000", "Averlak", "25715"},
	} {
		got := byARS[tt.ars]
		if got.Parent != tt.parent || got.Name != tt.name || got.PLZ != tt.plz {
			t.Errorf("%s = %+v, want parent %s name %q plz %s", tt.ars, got, tt.parent, tt.name, tt.plz)
		}
	}
	if f := byARS["010010000000"]; f.Population != 90164 || f.Area != 53.02 || f.Lon != 9.43751 || f.Lat != 54.78252 || f.AGS != "01001000" {
		t.Errorf("Flensburg = %+v", f)
	}
	if byARS[tenant.Bund].Population < 80_000_000 {
		t.Errorf("Bund population = %d", byARS[tenant.Bund].Population)
	}
}

func FuzzReadMunicipalities(f *testing.F) {
	f.Add(gvSmall)
	f.Add(gvHeader + "60,61,06,4,11,0000,000,\"D\", 1, 1 0, 1, 1, 1,64283,\"8,65\",\"49,87\",X,Y,01,d\n")
	f.Add(gvHeader + "10,,06,,,,,H\"e\",,,,,,,,,,,,\n")
	f.Fuzz(func(t *testing.T, in string) {
		ts, _, err := importer.ReadMunicipalities(strings.NewReader(in), "fuzz.csv")
		if err != nil {
			if rathaus.ErrorCode(err) != rathaus.EINVALID {
				t.Fatalf("error code %q: %v", rathaus.ErrorCode(err), err)
			}
			return
		}
		seen := map[string]bool{}
		for _, tn := range ts {
			if !tenant.ValidARS(tn.ARS) || seen[tn.ARS] {
				t.Fatalf("bad or duplicate ARS %q", tn.ARS)
			}
			seen[tn.ARS] = true
			if tn.Parent != "" && !seen[tn.Parent] {
				t.Fatalf("%s before its parent %s", tn.ARS, tn.Parent)
			}
		}
	})
}

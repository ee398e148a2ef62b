// SPDX-License-Identifier: EUPL-1.2

package eval

import (
	"encoding/json"
	"os"
	"sort"
	"strings"

	"rathaus"
	"rathaus/search"
)

// BerlinARS is the ARS of the Land Berlin.
const BerlinARS = "110000000000"

type berlinServices struct {
	Data []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"data"`
}

type berlinTopics struct {
	Data []struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Relation struct {
			Services []struct {
				ID string `json:"id"`
			} `json:"services"`
		} `json:"relation"`
	} `json:"data"`
}

// LoadBerlin reads the Berlin DLDB export (services_de_2017.json, names
// only) and its editorial topic taxonomy (topic_de_2016.json). It is the
// second, held-out evaluation set: nothing in the search was tuned on it.
//
// Each service becomes a document whose keywords are the names of the
// topics it belongs to; each topic with member services becomes a query
// whose right answers are its members. Evaluated with CrossValidate, the
// topic is hidden from every keyword list before it is queried, so a hit
// must come from the service names, the other topics and the analysis
// (decompounding, synonyms, life events).
func LoadBerlin(servicesPath, topicsPath string) ([]search.Doc, []Query, error) {
	b, err := os.ReadFile(servicesPath)
	if err != nil {
		return nil, nil, rathaus.Wrap(rathaus.EINVALID, err, "cannot read %s", servicesPath)
	}
	var sf berlinServices
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, nil, rathaus.Wrap(rathaus.EINVALID, err, "%s: not a DLDB services file", servicesPath)
	}
	b, err = os.ReadFile(topicsPath)
	if err != nil {
		return nil, nil, rathaus.Wrap(rathaus.EINVALID, err, "cannot read %s", topicsPath)
	}
	var tf berlinTopics
	if err := json.Unmarshal(b, &tf); err != nil {
		return nil, nil, rathaus.Wrap(rathaus.EINVALID, err, "%s: not a DLDB topics file", topicsPath)
	}
	known := map[string]bool{}
	for _, s := range sf.Data {
		known[s.ID] = true
	}
	topicsOf := map[string][]string{}
	var qs []Query
	for _, t := range tf.Data {
		name := strings.TrimSpace(t.Name)
		var members []string
		for _, s := range t.Relation.Services {
			if known[s.ID] && !contains(members, s.ID) {
				members = append(members, s.ID)
				topicsOf[s.ID] = append(topicsOf[s.ID], name)
			}
		}
		if name != "" && len(members) > 0 {
			sort.Strings(members)
			qs = append(qs, Query{Query: name, Expected: members})
		}
	}
	var docs []search.Doc
	for _, s := range sf.Data {
		key := "dldb-" + s.ID
		docs = append(docs, search.Doc{
			ID: key, Tenant: BerlinARS, Key: key, SourceID: s.ID,
			Name: s.Name, Keywords: topicsOf[s.ID],
		})
	}
	return docs, qs, nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

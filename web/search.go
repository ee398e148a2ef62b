// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"context"
	"html"
	"net/http"
	"strings"
	"unicode/utf8"

	"rathaus"
	"rathaus/catalog"
	"rathaus/search"
	"rathaus/tenant"
)

// SearchHit is one result of a [SearchFunc].
type SearchHit struct {
	Key     string // catalog key of the service
	Tenant  string // ARS of the tenant whose description matched
	Name    string
	Summary string // plain-text teaser (may be replaced by the catalog's summary)
	Score   float64
	// Why says what matched, as search.Hit.Why: "field:term",
	// "field:from→to" (synonym, life event), "field:from~to" (typo).
	Why []string
}

// SearchFunc searches the services visible from municipality (an ARS; ""
// means every service, national view) for q and returns the hits
// offset…offset+limit, best first, and the total number of hits.
type SearchFunc func(ctx context.Context, q, municipality string, limit, offset int) ([]SearchHit, int, error)

// maxSearchHits bounds the hits of one index search (and so the pages).
const maxSearchHits = 300

// officeTop is the number of results per page for which the responsible
// office is looked up (one Resolve each).
const officeTop = 10

// IndexSearch returns a SearchFunc over the index that current returns.
// current is called once per search, so an index rebuilt in the background
// and swapped in atomically is used from the next search on.
func IndexSearch(current func() *search.Index) SearchFunc {
	return func(ctx context.Context, q, municipality string, limit, offset int) ([]SearchHit, int, error) {
		idx := current()
		if idx == nil {
			return nil, 0, rathaus.Errorf(rathaus.EUNAVAILABLE, "Die Suche wird gerade aufgebaut. Bitte versuchen Sie es gleich noch einmal.")
		}
		opts := search.SearchOptions{Limit: maxSearchHits}
		if municipality != "" {
			lin := tenant.Lineage(municipality)
			if lin == nil {
				return nil, 0, rathaus.Errorf(rathaus.EINVALID, "Gemeinde %q ist kein gültiger Amtlicher Regionalschlüssel.", municipality)
			}
			opts.Tenants = lin
		}
		hits := idx.Search(q, opts)
		out := make([]SearchHit, 0, len(hits))
		seen := map[string]bool{}
		for _, h := range hits {
			// A hit that no query word explains (matched only through
			// letter n-grams or feedback terms) is noise on a result page.
			if len(h.Why) == 0 {
				continue
			}
			// Without a municipality the index returns a service once per
			// tenant that describes it; list it once, at its best rank.
			if h.Doc.Key != "" {
				if seen[h.Doc.Key] {
					continue
				}
				seen[h.Doc.Key] = true
			}
			out = append(out, SearchHit{Key: h.Doc.Key, Tenant: h.Doc.Tenant, Name: h.Doc.Name,
				Summary: plainLead(h.Doc.Description, 240), Score: h.Score, Why: h.Why})
		}
		total := len(out)
		if offset >= total {
			return nil, total, nil
		}
		end := min(offset+limit, total)
		return out[offset:end], total, nil
	}
}

// plainLead returns the text of an HTML fragment, cut at about n runes on a
// word boundary.
func plainLead(s string, n int) string {
	var b strings.Builder
	in := false
	for _, c := range s {
		switch {
		case c == '<':
			in = true
			b.WriteByte(' ')
		case c == '>':
			in = false
		case !in:
			b.WriteRune(c)
		}
	}
	t := strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
	if utf8.RuneCountInString(t) <= n {
		return t
	}
	r := []rune(t)[:n]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + " …"
}

// searchResult is one result as the search page shows it.
type searchResult struct {
	Key, Name, Summary string
	Why                []string        // human-readable match reasons
	Office             *catalog.Office // responsible office (municipality chosen, top results)
}

// indexSearch fills d with a page of Deps.Search results for q, as seen
// from municipality m ("" = national view).
func (s *Server) indexSearch(r *http.Request, q, m string, page int, d *searchPage) error {
	ctx := r.Context()
	hits, total, err := s.deps.Search(ctx, q, m, pageSize, (page-1)*pageSize)
	if err != nil {
		return err
	}
	d.Total = total
	d.Results = make([]searchResult, 0, len(hits))
	for i, h := range hits {
		res := searchResult{Key: h.Key, Name: h.Name, Summary: h.Summary, Why: s.whyText(r, h.Why)}
		if m != "" && i < officeTop {
			if rs, err := s.deps.Catalog.Resolve(ctx, m, h.Key); err == nil {
				res.Name = rs.Service.Name
				if rs.Service.Summary != "" {
					res.Summary = rs.Service.Summary
				}
				if len(rs.Offices) > 0 {
					res.Office = &rs.Offices[0]
				}
			} else if rathaus.ErrorCode(err) != rathaus.ENOTFOUND {
				return err
			}
		} else if sv, err := s.deps.Catalog.Service(ctx, h.Tenant, h.Key); err == nil && sv.Summary != "" {
			res.Summary = sv.Summary
		}
		d.Results = append(d.Results, res)
	}
	return nil
}

// whyFields name the index fields of search.Hit.Why for the page.
var whyFields = map[string]string{
	"name":        "search.why.field.name",
	"keywords":    "search.why.field.keywords",
	"description": "search.why.field.description",
	"leika":       "search.why.field.leika",
}

// whyText turns the index's match reasons ("keywords:perso→personalausweis")
// into sentences in the request's language; at most four.
func (s *Server) whyText(r *http.Request, why []string) []string {
	var out []string
	for _, w := range why {
		if len(out) == 4 {
			break
		}
		field, term, ok := strings.Cut(w, ":")
		if !ok || term == "" {
			continue
		}
		fid, ok := whyFields[field]
		if !ok {
			continue
		}
		fieldText := s.tr(r, fid)
		switch {
		case strings.Contains(term, "→") && !sameWord(term, "→"):
			from, to, _ := strings.Cut(term, "→")
			out = append(out, s.tr(r, "search.why.synonym", "From", from, "To", to, "Field", fieldText))
		case strings.Contains(term, "~") && !sameWord(term, "~"):
			from, to, _ := strings.Cut(term, "~")
			out = append(out, s.tr(r, "search.why.typo", "From", from, "To", to, "Field", fieldText))
		default:
			if i := strings.IndexAny(term, "→~"); i >= 0 {
				term = term[:i]
			}
			out = append(out, s.tr(r, "search.why.exact", "Term", term, "Field", fieldText))
		}
	}
	return out
}

// sameWord reports whether "from<sep>to" names the same word twice.
func sameWord(term, sep string) bool {
	from, to, _ := strings.Cut(term, sep)
	return from == to
}

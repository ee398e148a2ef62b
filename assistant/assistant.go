// SPDX-License-Identifier: EUPL-1.2

// Package assistant is the citizen assistant (chatbot): a rules-first
// dialogue over the service catalog. It finds services for everyday
// questions through the search index, asks one clarifying question when the
// best hits are close, answers follow-ups about fees, documents, deadlines,
// processing time, the responsible office, opening hours and online access
// only from the catalog fields of the active service as resolved for the
// citizen's municipality, and hands over to the 115 service number when it
// is unsure. It never invents a fee, deadline, address or URL: every reply
// carries the records it cites (Reply.Sources), and an optional LLM
// (OpenAI-compatible) may only rephrase a reply whose facts a checker finds
// in those records (see assistant.md §3).
//
// Conversation state (State) lives in memory for TTL after its last use
// (Conversations); input is masked for personal data (Mask) before it is
// logged, searched or sent to an LLM, and only the masked text is kept.
package assistant

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"rathaus"
	"rathaus/catalog"
	"rathaus/search"
	"rathaus/tenant"
)

// Intents a turn is routed to (Reply.Intent).
const (
	IntentGreeting        = "greeting"
	IntentFindService     = "find_service"
	IntentClarify         = "clarify"
	IntentAskAttribute    = "ask_attribute"
	IntentSetMunicipality = "set_municipality"
	IntentAskMunicipality = "ask_municipality"
	IntentApply           = "start_application"
	IntentHandoff         = "handoff_115"
	IntentOutOfScope      = "out_of_scope"
	IntentAbuse           = "abuse"
)

// Attributes a follow-up may ask about.
const (
	AttrFees      = "fees"
	AttrDocuments = "documents"
	AttrDeadline  = "deadline"
	AttrDuration  = "duration"
	AttrOffice    = "office"
	AttrHours     = "hours"
	AttrOnline    = "online"
)

// Phone115 is the Behördennummer, the national service line the assistant
// hands over to; Link115 its information page. They are the only facts in
// a reply that do not come from the catalog.
const (
	Phone115 = "115"
	Link115  = "https://www.115.de"
)

// Disclaimer is shown under every answer from the catalog.
const Disclaimer = "Verbindlich ist die Auskunft der zuständigen Stelle."

// maxInput is the longest question accepted, in characters.
const maxInput = 500

// Retriever finds services for a question; *search.Index implements it.
type Retriever interface {
	Search(q string, opts search.SearchOptions) []search.Hit
}

// Options configure an Assistant. Zero values take the defaults.
type Options struct {
	// LLM, when not nil, rewrites unclear questions and phrases answers;
	// its output passes Check or the template answer is used.
	LLM LLM
	// Logger receives one line per turn with the masked question; nil discards.
	Logger *slog.Logger
	// HasForm reports whether rathaus has an online application for a
	// service key; nil means every service may link to /antrag/{key}.
	HasForm func(key string) bool
	// Margin: a second hit scoring at least Margin × the best one makes the
	// answer ambiguous and triggers a clarifying question (default 0.8).
	Margin float64
	// MaxClarifications before handing over to 115 (default 2).
	MaxClarifications int
}

// Assistant answers turns of conversations. Safe for concurrent use; turns
// of one conversation must not run concurrently (Conversations.Get
// serialises them).
type Assistant struct {
	idx     Retriever
	cat     catalog.Store
	tenants tenant.Store
	opts    Options
	log     *slog.Logger
	conv    *Conversations
}

// Conversations returns the assistant's in-memory conversation store.
func (a *Assistant) Conversations() *Conversations { return a.conv }

// New returns an assistant over the search index, the catalog and the
// tenant tree.
func New(idx Retriever, cat catalog.Store, tenants tenant.Store, opts Options) (*Assistant, error) {
	if idx == nil || cat == nil || tenants == nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "assistant: index, catalog and tenants are required")
	}
	if opts.Margin <= 0 || opts.Margin >= 1 {
		opts.Margin = 0.8
	}
	if opts.MaxClarifications <= 0 {
		opts.MaxClarifications = 2
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Assistant{idx: idx, cat: cat, tenants: tenants, opts: opts, log: log, conv: NewConversations()}, nil
}

// DocFromService maps a catalog service to a search document (the same
// mapping as `rathaus ask`).
func DocFromService(s catalog.Service) search.Doc {
	var official []string
	for _, t := range []string{s.OZGName, s.Themenfeld, s.Summary} {
		if strings.TrimSpace(t) != "" {
			official = append(official, t)
		}
	}
	return search.Doc{
		ID: s.Tenant + "/" + s.Key, Tenant: s.Tenant, Key: s.Key, LeiKa: s.LeiKa, SourceID: s.SourceID,
		Name: s.Name, Keywords: s.Keywords, Description: s.Description, LeiKaText: strings.Join(official, " , "),
		Lebenslagen: s.Lebenslagen,
	}
}

// BuildIndex indexes every service of the catalog and returns the index
// and the number of services.
func BuildIndex(ctx context.Context, cat catalog.Store, opts search.Options) (*search.Index, int, error) {
	idx, err := search.NewIndex(opts)
	if err != nil {
		return nil, 0, err
	}
	n := 0
	err = cat.AllServices(ctx, func(s catalog.Service) error {
		n++
		return idx.Add(DocFromService(s))
	})
	if err != nil {
		return nil, 0, err
	}
	return idx, n, nil
}

// Candidate is a service the conversation is about or may be about.
type Candidate struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// State is one conversation. It holds nothing personal beyond the masked
// transcript and lives only as long as the conversation (Conversations).
type State struct {
	ID               string      // conversation id
	Municipality     string      // ARS of the citizen's municipality, "" if unknown
	MunicipalityName string      // its name
	Candidates       []Candidate // services of the last search, best first
	Active           string      // key of the service follow-ups are about
	ActiveName       string
	Pending          string   // "service" or "municipality": the open clarifying question
	PendingAttr      string   // attribute asked before the municipality was known
	LastAttr         string   // last attribute answered (repeated on a change of municipality)
	Choices          []Choice // the choices of the open clarifying question
	Clarifications   int      // clarifying questions asked in a row
	Turns            int
	Lang             string     // "de" (default) or "en"
	Transcript       []Exchange // masked questions and replies, for the page
}

// Exchange is one turn of the transcript.
type Exchange struct {
	User  string // masked input
	Reply *Reply
}

// maxTranscript bounds the transcript kept per conversation.
const maxTranscript = 40

// Choice is a button offered with a reply; Value is sent back as the next
// message.
type Choice struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Link is an official link of a reply.
type Link struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// ServiceRef is a service named in a reply.
type ServiceRef struct {
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	URL         string   `json:"url"`                    // service page in rathaus
	OfficialURL string   `json:"official_url,omitempty"` // information page of the catalog
	Why         []string `json:"why,omitempty"`          // matched terms
	Office      string   `json:"office,omitempty"`       // responsible office in the municipality
}

// Apply is the offer to start the online application. Prefill is only
// done after the citizen's explicit consent: the page passes the flag
// prefill=1 to PrefillURL; no data leave the browser session.
type Apply struct {
	Key          string `json:"key"`
	Name         string `json:"name"`
	URL          string `json:"url"`           // /antrag/{key}
	PrefillParam string `json:"prefill_param"` // "prefill": the consent flag
	ConsentLabel string `json:"consent_label"` // label of the consent checkbox (logged-in citizens)
	LoginHint    string `json:"login_hint"`    // shown instead when nobody is logged in
}

// Source is a catalog record a reply cites: its id in the reply ("S1"),
// the service key, and the field texts the reply may quote.
type Source struct {
	ID    string
	Key   string
	Name  string
	Texts []string
}

// Reply is the assistant's answer to one turn.
type Reply struct {
	Intent     string       `json:"intent"`
	Text       string       `json:"text"`
	Services   []ServiceRef `json:"services"`
	Choices    []Choice     `json:"choices"`
	Links      []Link       `json:"links"`
	Handoff    bool         `json:"handoff"`
	PIIWarning bool         `json:"pii_warning,omitempty"`
	Apply      *Apply       `json:"apply,omitempty"`
	Stand      string       `json:"stand,omitempty"`
	Disclaimer string       `json:"disclaimer,omitempty"`
	// Phrasing is "template" or "llm".
	Phrasing string `json:"phrasing"`
	// Sources are the records the reply quotes from (for the checker).
	Sources []Source `json:"-"`
}

func (st *State) en() bool { return st.Lang == "en" }

// t picks the German or English text.
func t(st *State, de, en string) string {
	if st.en() {
		return en
	}
	return de
}

// Turn answers one message of the conversation st and updates st.
func (a *Assistant) Turn(ctx context.Context, st *State, input string) (*Reply, error) {
	input = strings.TrimSpace(strings.ToValidUTF8(input, ""))
	if utf8.RuneCountInString(input) > maxInput {
		return nil, rathaus.Errorf(rathaus.EINVALID, "Feld message: höchstens %d Zeichen.", maxInput)
	}
	st.Turns++
	masked, pii := Mask(input)
	shown := masked
	for _, c := range st.Choices {
		if c.Value == input {
			shown = c.Label // a clicked button shows its label in the transcript
		}
	}
	rep, err := a.route(ctx, st, masked)
	if err != nil {
		return nil, err
	}
	if rep.Phrasing == "" {
		rep.Phrasing = "template"
	}
	if rep.Services == nil {
		rep.Services = []ServiceRef{}
	}
	if rep.Choices == nil {
		rep.Choices = []Choice{}
	}
	if rep.Links == nil {
		rep.Links = []Link{}
	}
	if len(pii) > 0 {
		rep.PIIWarning = true
		rep.Text = t(st, "Bitte geben Sie hier keine persönlichen Daten ein (erkannt: ", "Please do not enter personal data here (found: ") +
			strings.Join(pii, ", ") + t(st, "). Ich habe sie unkenntlich gemacht.\n\n", "). I have masked them.\n\n") + rep.Text
	}
	keys := make([]string, 0, len(rep.Services))
	for _, s := range rep.Services {
		keys = append(keys, s.Key)
	}
	a.log.InfoContext(ctx, "assistant turn", "conversation", shortID(st.ID), "turn", st.Turns, "intent", rep.Intent,
		"question", masked, "services", keys, "municipality", st.Municipality, "phrasing", rep.Phrasing, "handoff", rep.Handoff)
	kept := *rep
	kept.Sources = nil // the page needs no record texts
	st.Transcript = append(st.Transcript, Exchange{User: shown, Reply: &kept})
	if len(st.Transcript) > maxTranscript {
		st.Transcript = st.Transcript[len(st.Transcript)-maxTranscript:]
	}
	return rep, nil
}

func shortID(id string) string {
	if len(id) > 6 {
		return id[:6]
	}
	return id
}

var (
	reInjection  = regexp.MustCompile(`(?i)(ignor\w*|vergiss|missacht\w*|disregard|forget)\s+(\w+\s+){0,3}(anweisung|instruktion|regel|instruction|rule|prompt|vorgabe)|system\s*-?prompt|jailbreak|\bdan\b|do anything now|developer mode|entwicklermodus|du bist (jetzt|ab sofort|nun)|you are now|act as|tu so als|pretend|gib (mir )?(deine|den) (prompt|anweisungen)|reveal your|<\s*script|\{\{|\bsql\b.*\b(drop|select)\b`)
	reAbuse      = regexp.MustCompile(`(?i)\b(arschloch|idiot|fick|scheiss|scheiß|hurensohn|wichser|fuck|bitch)\w*`)
	reHuman      = regexp.MustCompile(`(?i)\b(115|mensch|menschen|mitarbeiter\w*|sachbearbeiter\w*|berater\w*|jemand(en)? sprechen|persönlich sprechen|personlich sprechen|anrufen|telefon\w*|hotline|human|real person|agent)\b`)
	reGreeting   = regexp.MustCompile(`(?i)^\s*(hallo|hi|hey|moin|servus|grüß gott|gruss gott|grüezi|guten (morgen|tag|abend)|hello|good (morning|afternoon|evening)|danke\w*|vielen dank|thanks?( you)?|tschüss|tschuess|auf wiedersehen|bye|wie geht'?s|wie geht es dir|wer bist du|was kannst du|who are you|what can you do|ok|okay|super|prima)[\s!.?,]*(schön|sehr|dir|ihnen)?[\s!.?]*$`)
	reOutOfScope = regexp.MustCompile(`(?i)\b(wetter|fußball|fussball|bundesliga|witz|rezept|kochen|lotto|aktienkurs|horoskop|weather|football|joke|recipe)\w*`)
	reApply      = regexp.MustCompile(`(?i)(online beantragen|jetzt beantragen|antrag (stellen|starten|ausfüllen|ausfullen)|zum antrag|zum formular|(das|es|ihn|sie|den|die) (gleich |jetzt |online )?beantragen|^\s*beantragen|apply( online| now)?|start (the )?application)`)
	reMuniLead   = regexp.MustCompile(`(?i)(?:^|\b)(?:ich\s+|i\s+)?(?:wohne|lebe|bin|komme|wohnen|leben|live|am|come)\s+(?:jetzt\s+|seit kurzem\s+|now\s+)?(?:in|aus|bei|from)\s+(.+)$`)
	reMuniAnd    = regexp.MustCompile(`(?i)^\s*(?:und|aber|wie ist es|was ist mit|and|what about)?\s*(?:in|für|fur|aus|bei|for)\s+(.+?)\s*\??\s*$`)
	reMuniIn     = regexp.MustCompile(`\b(?:in|für|aus|bei)\s+((?:\p{Lu}[\p{L}\-.]*)(?:\s+(?:an der|am|im|in der|a\.\s?d\.|\p{Lu}[\p{L}\-.]*))*|\d{5})`)
	rePLZ        = regexp.MustCompile(`\b\d{5}\b`)
)

var attrPatterns = []struct {
	attr string
	re   *regexp.Regexp
}{
	{AttrHours, regexp.MustCompile(`(?i)öffnungszeit|offnungszeit|geöffnet|geoffnet|sprechzeit|wann (hat|ist) .*(offen|auf|geöffnet)|opening hours|when .*open`)},
	{AttrFees, regexp.MustCompile(`(?i)kost|gebühr|gebuhr|\bpreis|\bteuer\b|\bbezahlen|\bzahlen\b|\beuro\b|\bfee|\bcost|how much`)},
	{AttrDocuments, regexp.MustCompile(`(?i)unterlagen|dokument|mitbringen|mitnehmen|\bnachweis|brauche ich|benötige ich|benotige ich|was muss ich mitbringen|documents|what do i need|bring`)},
	{AttrDeadline, regexp.MustCompile(`(?i)frist|bis wann|wie lange habe ich|deadline|wie viel zeit habe ich|spätestens|spatestens`)},
	{AttrDuration, regexp.MustCompile(`(?i)wie lange dauert|dauer|bearbeitungszeit|wann bekomme|wie schnell|how long`)},
	{AttrOnline, regexp.MustCompile(`(?i)geht das online|online (erledigen|machen|möglich|moglich)|im internet|digital|\bonline\b|can i do (it|this) online`)},
	{AttrOffice, regexp.MustCompile(`(?i)^\s*wo\b|\bwo (ist|kann|muss|bekomme|finde|beantrage)|wohin|zuständig|zustandig|adresse|anschrift|welches amt|welche stelle|welche behörde|welche behorde|\bamt\b|where|which office|address`)},
}

// detectAttr returns the attribute a message asks about, or "".
func detectAttr(s string) string {
	for _, p := range attrPatterns {
		if p.re.MatchString(s) {
			if p.attr == AttrOnline && reApply.MatchString(s) {
				continue
			}
			return p.attr
		}
	}
	return ""
}

// filler are words that carry no service meaning in follow-ups.
var filler = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`was wie wo wer wann welche welcher welches welchen kostet kosten kosts das der die den dem des ein eine einen einem einer ich mir mich muss musst brauche brauch braucht man es ist sind bei fur mit zu zum zur und oder auch noch denn dafur dazu da hier dort bitte danke gibt geht kann konnen lange dauert dauer viel mein meine meinen meiner haben habe hat wird werden online beantragen antrag antrage stellen mochte will jetzt gleich hallo gern gerne guten tag frage fragen hilfe info infos informationen ja nein sie er ihn ihm ihr unterlagen dokumente gebuhr gebuhren gebuhrn frist fristen offnungszeiten offnungszeit geoffnet zustandig zustandige stelle amt adresse wohin wohnt wohne bin im am an auf aus in nicht kein keine so sowas etwas mal denn eigentlich ungefahr genau nochmal wieder bekomme bekommt wieviel teuer preis kostenlos unterlag nachweise mitbringen mitnehmen bearbeitungszeit erledigen machen internet digital sich sein seine the a an is what how much does it cost where when do i need documents fees for and of to can`) {
		filler[w] = true
	}
}

// contentWords returns the words of s that may name a service.
func contentWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(search.Fold(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
	}) {
		if len(w) >= 3 && !filler[w] {
			out = append(out, w)
		}
	}
	return out
}

func (a *Assistant) route(ctx context.Context, st *State, in string) (*Reply, error) {
	if st.Lang == "" {
		st.Lang = "de"
	}
	if in == "" {
		return a.greeting(st), nil
	}
	if reInjection.MatchString(in) || reAbuse.MatchString(in) {
		st.Pending, st.Choices = "", nil
		return &Reply{Intent: IntentAbuse, Text: t(st,
			"Dabei kann ich nicht helfen. Ich beantworte nur Fragen zu Verwaltungsleistungen – zum Beispiel „Was kostet ein Personalausweis?“.",
			"I cannot help with that. I only answer questions about public services – for example “How much is an ID card?”.")}, nil
	}
	// An answer to the open clarifying question.
	if st.Pending != "" {
		if c, ok := matchChoice(st, in); ok {
			return a.choose(ctx, st, c)
		}
	}
	if reHuman.MatchString(in) && len(contentWords(in)) <= 3 {
		return a.handoff(st, true), nil
	}
	if reGreeting.MatchString(in) {
		return a.greeting(st), nil
	}
	// A change of municipality ("ich wohne in Darmstadt", "und in 93047?").
	rest, rep, err := a.municipalityIn(ctx, st, in)
	if err != nil || rep != nil {
		return rep, err
	}
	if rest != in && len(contentWords(stripAttr(rest))) == 0 && !reApply.MatchString(rest) {
		return a.afterMunicipality(ctx, st, rest)
	}
	in = rest
	if reOutOfScope.MatchString(in) {
		return a.outOfScope(st), nil
	}
	attr := detectAttr(in)
	apply := reApply.MatchString(in)
	words := contentWords(stripAttr(in))
	if (attr != "" || apply) && st.Pending == "service" && len(st.Choices) > 0 && len(words) == 0 {
		// The clarifying question is still open: ask it again and answer
		// the attribute once a service is chosen.
		st.PendingAttr = attr
		rep := &Reply{Intent: IntentClarify, Choices: st.Choices,
			Text: t(st, "Zu welcher Leistung möchten Sie das wissen? Bitte wählen Sie:", "Which service do you mean? Please choose:")}
		return rep, nil
	}
	if (attr != "" || apply) && st.Active != "" && len(words) == 0 {
		if apply {
			return a.apply(ctx, st)
		}
		return a.answerAttr(ctx, st, attr)
	}
	if (attr != "" || apply) && len(words) == 0 {
		return &Reply{Intent: IntentClarify, Text: t(st,
			"Zu welcher Leistung möchten Sie das wissen? Nennen Sie zum Beispiel „Personalausweis“ oder „Hund anmelden“.",
			"Which service do you mean? For example “ID card” or “register a dog”.")}, nil
	}
	return a.find(ctx, st, in, attr, apply)
}

// stripAttr removes the attribute and application phrases from s.
func stripAttr(s string) string {
	for _, p := range attrPatterns {
		s = p.re.ReplaceAllString(s, " ")
	}
	return reApply.ReplaceAllString(s, " ")
}

func matchChoice(st *State, in string) (Choice, bool) {
	f := search.Fold(strings.Trim(in, " ?!."))
	for _, c := range st.Choices {
		if f == search.Fold(c.Value) || f == search.Fold(c.Label) {
			return c, true
		}
	}
	// A distinctive word: "die Sterbeurkunde", "Geburt".
	var hit []Choice
	for _, c := range st.Choices {
		lf := search.Fold(c.Label)
		for _, w := range contentWords(in) {
			if len(w) >= 4 && strings.Contains(lf, w) {
				hit = append(hit, c)
				break
			}
		}
	}
	if len(hit) == 1 {
		return hit[0], true
	}
	return Choice{}, false
}

// choose acts on a clicked or typed choice.
func (a *Assistant) choose(ctx context.Context, st *State, c Choice) (*Reply, error) {
	pending := st.Pending
	st.Pending, st.Choices = "", nil
	switch {
	case pending == "municipality" && strings.HasPrefix(c.Value, "gemeinde:"):
		ars := strings.TrimPrefix(c.Value, "gemeinde:")
		if err := a.setMunicipality(ctx, st, ars); err != nil {
			return nil, err
		}
		return a.afterMunicipality(ctx, st, "")
	case pending == "service" && strings.HasPrefix(c.Value, "leistung:"):
		st.Clarifications = 0
		key := strings.TrimPrefix(c.Value, "leistung:")
		st.Active, st.ActiveName = key, c.Label
		if st.PendingAttr != "" && st.Municipality != "" {
			attr := st.PendingAttr
			st.PendingAttr = ""
			return a.answerAttr(ctx, st, attr)
		}
		return a.present(ctx, st, []search.Hit{{Doc: search.Doc{Key: key, Name: c.Label}}}, "", false)
	}
	return a.find(ctx, st, c.Label, "", false)
}

func (a *Assistant) setMunicipality(ctx context.Context, st *State, ars string) error {
	t, err := a.tenants.Tenant(ctx, ars)
	if err != nil {
		if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
			return rathaus.Errorf(rathaus.EINVALID, "Feld municipality: Gemeinde %s ist unbekannt.", ars)
		}
		return err
	}
	st.Municipality, st.MunicipalityName = t.ARS, t.Name
	return nil
}

// SetMunicipality sets the conversation's municipality from an ARS (the
// page's municipality choice or the API's municipality field).
func (a *Assistant) SetMunicipality(ctx context.Context, st *State, ars string) error {
	if !tenant.ValidARS(ars) {
		return rathaus.Errorf(rathaus.EINVALID, "Feld municipality: %q ist kein 12-stelliger Regionalschlüssel.", ars)
	}
	return a.setMunicipality(ctx, st, ars)
}

// municipalityIn looks for a municipality in the message. It returns the
// message without the place, or a reply when the place is ambiguous.
func (a *Assistant) municipalityIn(ctx context.Context, st *State, in string) (string, *Reply, error) {
	var cands []string
	var spans [][2]int
	add := func(m []int, sub int) {
		cands = append(cands, in[m[2*sub]:m[2*sub+1]])
		spans = append(spans, [2]int{m[0], m[1]})
	}
	if m := reMuniLead.FindStringSubmatchIndex(in); m != nil {
		add(m, 1)
	}
	if m := reMuniAnd.FindStringSubmatchIndex(in); m != nil {
		add(m, 1)
	}
	for _, m := range reMuniIn.FindAllStringSubmatchIndex(in, -1) {
		add(m, 1)
	}
	for _, m := range rePLZ.FindAllStringIndex(in, -1) {
		cands = append(cands, in[m[0]:m[1]])
		spans = append(spans, [2]int{m[0], m[1]})
	}
	if st.Pending == "municipality" || st.PendingAttr != "" {
		cands = append(cands, in) // "Darmstadt" as the answer to "Wo wohnen Sie?"
		spans = append(spans, [2]int{0, len(in)})
	}
	for i, c := range cands {
		c = strings.Trim(c, " ?!.,")
		if c == "" || utf8.RuneCountInString(c) > 60 {
			continue
		}
		ts, err := a.findGemeinde(ctx, c)
		if err != nil {
			return in, nil, err
		}
		switch {
		case len(ts) == 1:
			st.Municipality, st.MunicipalityName = ts[0].ARS, ts[0].Name
			st.Pending, st.Choices = "", nil
			rest := strings.TrimSpace(in[:spans[i][0]] + " " + in[spans[i][1]:])
			return rest, nil, nil
		case len(ts) > 1:
			rep := &Reply{Intent: IntentAskMunicipality, Text: t(st, "Welche Gemeinde meinen Sie?", "Which municipality do you mean?")}
			st.Choices = nil
			for _, g := range ts {
				label := g.Name
				if g.PLZ != "" {
					label += " (" + g.PLZ + ")"
				}
				st.Choices = append(st.Choices, Choice{Label: label, Value: "gemeinde:" + g.ARS})
			}
			st.Pending = "municipality"
			rep.Choices = st.Choices
			return in, rep, nil
		}
	}
	return in, nil, nil
}

// findGemeinde returns the Gemeinden that c names exactly (name, "name,
// Zusatz", or main postcode), at most four.
func (a *Assistant) findGemeinde(ctx context.Context, c string) ([]tenant.Tenant, error) {
	ts, err := a.tenants.FindGemeinden(ctx, c, 8)
	if err != nil {
		return nil, err
	}
	fc := search.Fold(c)
	var out []tenant.Tenant
	for _, g := range ts {
		fn := search.Fold(g.Name)
		if g.PLZ == c || fn == fc || strings.HasPrefix(fn, fc+",") || strings.HasPrefix(fn, fc+" ") && len(fc) >= 4 {
			out = append(out, g)
		}
	}
	if len(out) > 4 {
		out = out[:4]
	}
	return out, nil
}

// afterMunicipality answers once the municipality is known: the pending
// or last attribute of the active service, else a confirmation.
func (a *Assistant) afterMunicipality(ctx context.Context, st *State, rest string) (*Reply, error) {
	if st.Active != "" {
		attr := st.PendingAttr
		if attr == "" {
			attr = st.LastAttr
		}
		st.PendingAttr = ""
		if attr != "" {
			return a.answerAttr(ctx, st, attr)
		}
		return a.present(ctx, st, []search.Hit{{Doc: search.Doc{Key: st.Active, Name: st.ActiveName}}}, "", false)
	}
	return &Reply{Intent: IntentSetMunicipality, Text: t(st,
		"Danke, ich beantworte Ihre Fragen jetzt für "+st.MunicipalityName+". Wobei kann ich helfen?",
		"Thank you, I will answer for "+st.MunicipalityName+". How can I help?")}, nil
}

func (a *Assistant) greeting(st *State) *Reply {
	return &Reply{Intent: IntentGreeting, Text: t(st,
		"Guten Tag! Ich bin der digitale Assistent des Rathauses. Beschreiben Sie Ihr Anliegen in eigenen Worten, zum Beispiel „Ich bin umgezogen“ oder „Hund angeschafft“. Ich nenne Ihnen die passende Leistung, Gebühren, Unterlagen und die zuständige Stelle.",
		"Hello! I am the town hall's digital assistant. Describe what you need in your own words, e.g. “I have moved” or “got a dog”. I will name the matching service, fees, documents and the responsible office."),
		Choices: []Choice{
			{Label: t(st, "Personalausweis beantragen", "Apply for an ID card"), Value: "Personalausweis beantragen"},
			{Label: t(st, "Ich bin umgezogen", "I have moved"), Value: "Ich bin umgezogen"},
			{Label: t(st, "Hund angeschafft", "Got a dog"), Value: "Hund angeschafft"},
		}}
}

func (a *Assistant) handoff(st *State, asked bool) *Reply {
	st.Pending, st.Choices, st.Clarifications = "", nil, 0
	text := t(st, "Dazu habe ich keine gesicherte Information. ", "I have no reliable information on that. ")
	if asked {
		text = t(st, "Gern verbinde ich Sie mit einem Menschen. ", "I will gladly refer you to a person. ")
	}
	text += t(st, "Die Behördennummer "+Phone115+" beantwortet Fragen zu Verwaltungsleistungen persönlich – rufen Sie einfach die "+Phone115+" an.",
		"The public service number "+Phone115+" answers questions about public services in person – just call "+Phone115+".")
	return &Reply{Intent: IntentHandoff, Handoff: true, Text: text,
		Links: []Link{{Label: t(st, "Behördennummer 115", "Public service number 115"), URL: Link115}}}
}

func (a *Assistant) outOfScope(st *State) *Reply {
	r := a.handoff(st, false)
	r.Intent = IntentOutOfScope
	r.Text = t(st, "Dazu kann ich leider nichts sagen: Ich beantworte Fragen zu Verwaltungsleistungen. ", "Sorry, I only answer questions about public services. ") + r.Text
	return r
}

// confident reports whether a hit matched the name or the keywords, not
// only the description.
func confident(h search.Hit) bool {
	for _, w := range h.Why {
		if strings.HasPrefix(w, "name:") || strings.HasPrefix(w, "keywords:") {
			return true
		}
	}
	return false
}

// reWord finds words with their case, for the noun test below.
var reWord = regexp.MustCompile(`[\p{L}][\p{L}\-]*`)

// rePlaceholder matches the placeholders of Mask.
var rePlaceholder = regexp.MustCompile(`\[[A-Z\-]+\]`)

// uncoveredNoun reports whether the question has capitalised content
// words (German nouns) and the hit matched none of them: then the hit only
// shares a generic word with the question ("Pizza bestellen" →
// "Urkundenbestellung") and is no answer. All-lower-case questions pass.
func uncoveredNoun(q string, h search.Hit) bool {
	var matched []string
	for _, w := range h.Why {
		_, term, _ := strings.Cut(w, ":")
		// "a→b" (expansion) and "a~b" (typo): both sides count.
		matched = append(matched, strings.Fields(strings.NewReplacer("→", " ", "~", " ", "=", " ").Replace(term))...)
	}
	nouns := 0
	for _, w := range reWord.FindAllString(rePlaceholder.ReplaceAllString(q, " "), -1) {
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) {
			continue
		}
		f := search.Fold(w)
		if len(f) < 3 || filler[f] {
			continue
		}
		nouns++
		for _, m := range matched {
			if len(m) >= 3 && (strings.HasPrefix(f, m) || strings.HasPrefix(m, f) || len(f) >= 5 && len(m) >= 5 && f[:5] == m[:5]) {
				return false
			}
		}
	}
	return nouns > 0
}

// searchServices runs the retriever for the conversation's municipality
// and keeps one hit per service key.
func (a *Assistant) searchServices(st *State, q string) []search.Hit {
	opts := search.SearchOptions{Limit: 8}
	if st.Municipality != "" {
		opts.Tenants = tenant.Lineage(st.Municipality)
	}
	hits := a.idx.Search(q, opts)
	seen := map[string]bool{}
	out := hits[:0:0]
	for _, h := range hits {
		if seen[h.Doc.Key] {
			continue
		}
		seen[h.Doc.Key] = true
		out = append(out, h)
	}
	return out
}

// find runs find_service: search, then clarify, answer or hand over.
func (a *Assistant) find(ctx context.Context, st *State, q, attr string, apply bool) (*Reply, error) {
	hits := a.searchServices(st, q)
	sure := len(hits) > 0 && confident(hits[0]) && !uncoveredNoun(q, hits[0])
	if !sure && a.opts.LLM != nil {
		if rq, err := a.rewrite(ctx, q); err == nil && rq != "" {
			if h2 := a.searchServices(st, rq); len(h2) > 0 && confident(h2[0]) && !uncoveredNoun(rq, h2[0]) {
				hits, sure = h2, true
			}
		} else if err != nil {
			a.log.WarnContext(ctx, "assistant llm rewrite failed", "error", err.Error())
		}
	}
	if !sure {
		return a.handoff(st, false), nil
	}
	st.Candidates = st.Candidates[:0]
	for _, h := range hits {
		st.Candidates = append(st.Candidates, Candidate{Key: h.Doc.Key, Name: h.Doc.Name})
	}
	// Close scores: ask one clarifying question with 2–4 buttons.
	var close []search.Hit
	for _, h := range hits {
		if confident(h) && h.Score >= a.opts.Margin*hits[0].Score {
			close = append(close, h)
		}
	}
	if len(close) > 4 {
		close = close[:4]
	}
	if len(close) >= 2 {
		if st.Clarifications >= a.opts.MaxClarifications {
			return a.handoff(st, false), nil
		}
		st.Clarifications++
		st.Pending, st.Choices = "service", nil
		if attr != "" {
			st.PendingAttr = attr
		}
		var names []string
		for _, h := range close {
			st.Choices = append(st.Choices, Choice{Label: h.Doc.Name, Value: "leistung:" + h.Doc.Key})
			names = append(names, "„"+h.Doc.Name+"“")
		}
		list := strings.Join(names[:len(names)-1], ", ") + t(st, " oder ", " or ") + names[len(names)-1]
		rep := &Reply{Intent: IntentClarify, Choices: st.Choices, Text: t(st, "Meinen Sie "+list+"?", "Do you mean "+list+"?")}
		for _, h := range close {
			rep.Services = append(rep.Services, ServiceRef{Key: h.Doc.Key, Name: h.Doc.Name, URL: servicePath(h.Doc.Key), Why: whyText(h.Why)})
		}
		return rep, nil
	}
	st.Clarifications = 0
	st.Pending, st.Choices = "", nil
	st.Active, st.ActiveName = hits[0].Doc.Key, hits[0].Doc.Name
	if apply {
		return a.apply(ctx, st)
	}
	if attr != "" {
		rep, err := a.answerAttr(ctx, st, attr)
		if err == nil && len(rep.Services) == 1 && rep.Services[0].Key == hits[0].Doc.Key {
			rep.Services[0].Why = whyText(hits[0].Why)
		}
		return rep, err
	}
	return a.present(ctx, st, hits[:1], "", true)
}

func servicePath(key string) string { return "/leistungen/" + key }

// whyText turns "name:ausweis" into "ausweis (Name)".
func whyText(why []string) []string {
	var out []string
	for _, w := range why {
		f, term, ok := strings.Cut(w, ":")
		if !ok {
			continue
		}
		label := map[string]string{"name": "Name", "keywords": "Stichwort", "description": "Beschreibung", "leika": "Leistungskatalog"}[f]
		if label == "" {
			label = f
		}
		out = append(out, term+" ("+label+")")
		if len(out) == 4 {
			break
		}
	}
	return out
}

// resolve returns the active service as seen from the municipality.
func (a *Assistant) resolve(ctx context.Context, st *State, key string) (*catalog.Resolved, error) {
	res, err := a.cat.Resolve(ctx, st.Municipality, key)
	if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
		return nil, nil
	}
	return res, err
}

// present answers with the best service: name, summary, why, office,
// links; without a municipality it asks for one.
func (a *Assistant) present(ctx context.Context, st *State, hits []search.Hit, _ string, fromSearch bool) (*Reply, error) {
	h := hits[0]
	st.Active, st.ActiveName = h.Doc.Key, h.Doc.Name
	ref := ServiceRef{Key: h.Doc.Key, Name: h.Doc.Name, URL: servicePath(h.Doc.Key), Why: whyText(h.Why)}
	rep := &Reply{Intent: IntentFindService}
	var b strings.Builder
	if st.Municipality == "" {
		fmt.Fprintf(&b, t(st, "Dazu passt die Leistung „%s“.", "The matching service is “%s”."), h.Doc.Name)
		if len(ref.Why) > 0 {
			fmt.Fprintf(&b, t(st, " Gefunden über: %s.", " Matched: %s."), strings.Join(ref.Why, ", "))
		}
		b.WriteString(t(st, "\n\nGebühren und zuständige Stelle hängen vom Wohnort ab. In welcher Gemeinde wohnen Sie? Nennen Sie den Ort oder die Postleitzahl.",
			"\n\nFees and the responsible office depend on where you live. Which municipality do you live in? Give the town or the postcode."))
		st.Pending = "municipality"
		rep.Intent = IntentAskMunicipality
		rep.Services = []ServiceRef{ref}
		rep.Text = b.String()
		rep.Links = []Link{{Label: t(st, "Leistung im Rathaus", "Service page"), URL: ref.URL}}
		rep.Sources = []Source{keySource(h.Doc.Key, h.Doc.Name)}
		return rep, nil
	}
	res, err := a.resolve(ctx, st, h.Doc.Key)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return a.notOffered(st), nil
	}
	src := sourceOf(res, "S1")
	rep.Sources = []Source{src}
	svc := res.Service
	ref.Name, ref.OfficialURL = svc.Name, svc.URL
	if len(res.Offices) > 0 {
		ref.Office = res.Offices[0].Name
	}
	rep.Services = []ServiceRef{ref}
	fmt.Fprintf(&b, t(st, "Dazu passt die Leistung „%s“ (%s).", "The matching service is “%s” (%s)."), svc.Name, st.MunicipalityName)
	if fromSearch && len(ref.Why) > 0 {
		fmt.Fprintf(&b, t(st, " Gefunden über: %s.", " Matched: %s."), strings.Join(ref.Why, ", "))
	}
	if s := plain(svc.Summary); s != "" {
		b.WriteString("\n\n" + s)
	}
	if ref.Office != "" {
		fmt.Fprintf(&b, t(st, "\n\nZuständig: %s.", "\n\nResponsible office: %s."), ref.Office)
	}
	b.WriteString(t(st, "\n\nFragen Sie mich gern nach Gebühren, Unterlagen, Fristen oder der zuständigen Stelle.",
		"\n\nAsk me about fees, documents, deadlines or the responsible office."))
	rep.Text = b.String()
	a.finish(st, rep, res)
	rep.Choices = followUps(st, "")
	a.phrase(ctx, st, rep)
	return rep, nil
}

// followUps are the quick replies offered after an answer about a
// service, without the attribute just answered.
func followUps(st *State, except string) []Choice {
	all := []struct{ attr, de, en string }{
		{AttrFees, "Was kostet das?", "How much is it?"},
		{AttrDocuments, "Welche Unterlagen brauche ich?", "Which documents do I need?"},
		{AttrOffice, "Wo ist das?", "Where do I go?"},
		{AttrHours, "Wann hat das geöffnet?", "When is it open?"},
		{"apply", "Jetzt online beantragen", "Apply online now"},
	}
	var out []Choice
	for _, f := range all {
		if f.attr != except {
			out = append(out, Choice{Label: t(st, f.de, f.en), Value: f.de})
		}
	}
	return out
}

func (a *Assistant) notOffered(st *State) *Reply {
	r := a.handoff(st, false)
	r.Intent = IntentHandoff
	r.Text = t(st, "Für "+st.MunicipalityName+" ist „"+st.ActiveName+"“ nicht im Katalog beschrieben. ",
		"“"+st.ActiveName+"” is not described in the catalog for "+st.MunicipalityName+". ") + r.Text
	return r
}

// finish adds the official links, the Stand date and the disclaimer.
func (a *Assistant) finish(st *State, rep *Reply, res *catalog.Resolved) {
	svc := res.Service
	// The service page in rathaus is in rep.Services; the links add the
	// official page of the catalog (or the service page when it has none).
	if svc.URL != "" {
		rep.Links = append(rep.Links, Link{Label: t(st, "Offizielle Seite", "Official page"), URL: svc.URL})
	} else {
		rep.Links = append(rep.Links, Link{Label: t(st, "Leistung im Rathaus", "Service page"), URL: servicePath(svc.Key)})
	}
	if !svc.UpdatedAt.IsZero() {
		rep.Stand = stand(svc.UpdatedAt)
	}
	rep.Disclaimer = t(st, Disclaimer, "The responsible office's information is binding.")
}

func stand(t time.Time) string { return t.Format("02.01.2006") }

var reTags = regexp.MustCompile(`<[^>]*>`)
var reSpace = regexp.MustCompile(`[ \t\r\n]+`)

// plain turns catalog HTML into one line of text.
func plain(s string) string {
	s = strings.NewReplacer("</p>", "\n", "<br>", "\n", "<br/>", "\n", "</li>", "; ").Replace(s)
	s = html.UnescapeString(reTags.ReplaceAllString(s, " "))
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(reSpace.ReplaceAllString(l, " "))
		l = strings.TrimSuffix(l, ";")
		if l != "" {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	return strings.Join(lines, " ")
}

// sourceOf collects the quotable texts of a resolved service.
func sourceOf(res *catalog.Resolved, id string) Source {
	s := res.Service
	texts := []string{s.Key, s.Name, plain(s.Summary), plain(s.Description), plain(s.Prerequisites), plain(s.Fees),
		plain(s.Deadlines), plain(s.Duration), s.LegalBasis, s.URL, s.OnlineURL, servicePath(s.Key), "/antrag/" + s.Key}
	texts = append(texts, s.Documents...)
	if !s.UpdatedAt.IsZero() {
		texts = append(texts, stand(s.UpdatedAt))
	}
	for _, o := range res.Offices {
		texts = append(texts, o.Name, o.Organization, o.Street+" "+o.HouseNumber, o.PostalCode+" "+o.City,
			o.Phone, o.Email, o.URL, o.OpeningHours)
	}
	return Source{ID: id, Key: s.Key, Name: s.Name, Texts: slices.DeleteFunc(texts, func(x string) bool { return strings.TrimSpace(x) == "" })}
}

// keySource is the record of a service known only by key and name (no
// municipality chosen yet).
func keySource(key, name string) Source {
	return Source{ID: "S1", Key: key, Name: name, Texts: []string{key, name, servicePath(key), "/antrag/" + key}}
}

var attrLabel = map[string][2]string{
	AttrFees:      {"Gebühren", "Fees"},
	AttrDocuments: {"Unterlagen", "Documents"},
	AttrDeadline:  {"Fristen", "Deadlines"},
	AttrDuration:  {"Bearbeitungsdauer", "Processing time"},
	AttrOffice:    {"Zuständige Stelle", "Responsible office"},
	AttrHours:     {"Öffnungszeiten", "Opening hours"},
	AttrOnline:    {"Online-Antrag", "Online application"},
}

// answerAttr answers a follow-up about the active service only from its
// catalog fields for the municipality.
func (a *Assistant) answerAttr(ctx context.Context, st *State, attr string) (*Reply, error) {
	if st.Municipality == "" {
		st.PendingAttr = attr
		st.Pending = "municipality"
		return &Reply{Intent: IntentAskMunicipality, Text: t(st,
			"Das hängt vom Wohnort ab. In welcher Gemeinde wohnen Sie? Nennen Sie den Ort oder die Postleitzahl.",
			"That depends on where you live. Which municipality do you live in? Give the town or the postcode.")}, nil
	}
	res, err := a.resolve(ctx, st, st.Active)
	if err != nil {
		return nil, err
	}
	if res == nil {
		return a.notOffered(st), nil
	}
	st.LastAttr = attr
	svc := res.Service
	var office *catalog.Office
	if len(res.Offices) > 0 {
		office = &res.Offices[0]
	}
	rep := &Reply{Intent: IntentAskAttribute, Sources: []Source{sourceOf(res, "S1")}}
	ref := ServiceRef{Key: svc.Key, Name: svc.Name, URL: servicePath(svc.Key), OfficialURL: svc.URL}
	if office != nil {
		ref.Office = office.Name
	}
	rep.Services = []ServiceRef{ref}
	lbl := attrLabel[attr][0]
	if st.en() {
		lbl = attrLabel[attr][1]
	}
	head := fmt.Sprintf("%s – %s (%s): ", lbl, svc.Name, st.MunicipalityName)
	missing := func() string {
		s := t(st, "Dazu enthält der Katalog keine Angabe.", "The catalog has no information on this.")
		if office != nil {
			s += t(st, " Bitte fragen Sie bei der zuständigen Stelle nach: ", " Please ask the responsible office: ") + officeLine(office)
		} else {
			s += t(st, " Bitte fragen Sie bei Ihrer Gemeinde oder unter der Behördennummer "+Phone115+" nach.", " Please ask your municipality or call "+Phone115+".")
		}
		return s
	}
	var body string
	switch attr {
	case AttrFees:
		body = plain(svc.Fees)
	case AttrDocuments:
		if len(svc.Documents) > 0 {
			body = "\n• " + strings.Join(svc.Documents, "\n• ")
		}
	case AttrDeadline:
		body = plain(svc.Deadlines)
	case AttrDuration:
		body = plain(svc.Duration)
	case AttrOffice:
		if office != nil {
			body = officeLine(office)
		}
	case AttrHours:
		if office != nil && strings.TrimSpace(office.OpeningHours) != "" {
			body = office.Name + ": " + plain(office.OpeningHours)
		}
	case AttrOnline:
		switch {
		case a.hasForm(svc.Key):
			body = t(st, "Ja, Sie können „"+svc.Name+"“ hier online beantragen.", "Yes, you can apply for “"+svc.Name+"” online here.")
			rep.Apply = a.applyOffer(st, svc)
		case svc.OnlineURL != "":
			body = t(st, "Ja, über den Online-Dienst: ", "Yes, through the online service: ") + svc.OnlineURL
			rep.Links = append(rep.Links, Link{Label: t(st, "Online-Dienst", "Online service"), URL: svc.OnlineURL})
		}
	}
	if body == "" {
		body = missing()
	}
	rep.Text = head + body
	a.finish(st, rep, res)
	rep.Choices = followUps(st, attr)
	a.phrase(ctx, st, rep)
	return rep, nil
}

func officeLine(o *catalog.Office) string {
	parts := []string{o.Name}
	if o.Organization != "" && o.Organization != o.Name {
		parts = append(parts, o.Organization)
	}
	if addr := strings.TrimSpace(o.Street + " " + o.HouseNumber); addr != "" {
		parts = append(parts, addr)
	}
	if c := strings.TrimSpace(o.PostalCode + " " + o.City); c != "" {
		parts = append(parts, c)
	}
	if o.Phone != "" {
		parts = append(parts, "Tel. "+o.Phone)
	}
	if o.Email != "" {
		parts = append(parts, o.Email)
	}
	return strings.Join(parts, ", ")
}

func (a *Assistant) hasForm(key string) bool {
	return a.opts.HasForm == nil || a.opts.HasForm(key)
}

func (a *Assistant) applyOffer(st *State, svc catalog.Service) *Apply {
	return &Apply{Key: svc.Key, Name: svc.Name, URL: "/antrag/" + svc.Key, PrefillParam: "prefill",
		ConsentLabel: t(st, "Ich bin einverstanden, dass das Formular mit den Angaben aus meinem Konto vorausgefüllt wird. Ich prüfe alle Angaben vor dem Absenden.",
			"I agree that the form is prefilled with the data from my account. I will check every value before sending."),
		LoginHint: t(st, "Wenn Sie sich anmelden, kann das Formular mit den Angaben aus Ihrem Konto vorausgefüllt werden – nur mit Ihrer Zustimmung.",
			"If you log in, the form can be prefilled with the data from your account – only with your consent.")}
}

// apply offers the online application of the active service.
func (a *Assistant) apply(ctx context.Context, st *State) (*Reply, error) {
	ars := st.Municipality
	var res *catalog.Resolved
	var err error
	if ars != "" {
		if res, err = a.resolve(ctx, st, st.Active); err != nil {
			return nil, err
		}
	}
	rep := &Reply{Intent: IntentApply}
	svc := catalog.Service{Key: st.Active, Name: st.ActiveName}
	if res != nil {
		svc = res.Service
		rep.Sources = []Source{sourceOf(res, "S1")}
	}
	rep.Services = []ServiceRef{{Key: svc.Key, Name: svc.Name, URL: servicePath(svc.Key), OfficialURL: svc.URL}}
	switch {
	case a.hasForm(svc.Key):
		rep.Apply = a.applyOffer(st, svc)
		rep.Text = t(st, "Sie können „"+svc.Name+"“ jetzt online beantragen. Wenn Sie angemeldet sind, kann das Formular mit Ihren Kontodaten vorausgefüllt werden – nur mit Ihrer ausdrücklichen Zustimmung. Sie sehen alle Angaben vor dem Absenden.",
			"You can apply for “"+svc.Name+"” online now. If you are logged in, the form can be prefilled from your account – only with your explicit consent. You will see every value before sending.")
	case svc.OnlineURL != "":
		rep.Text = t(st, "Für „"+svc.Name+"“ gibt es einen Online-Dienst der zuständigen Stelle: ", "There is an online service for “"+svc.Name+"”: ") + svc.OnlineURL
		rep.Links = append(rep.Links, Link{Label: t(st, "Online-Dienst", "Online service"), URL: svc.OnlineURL})
	default:
		rep.Text = t(st, "Für „"+svc.Name+"“ gibt es noch keinen Online-Antrag. Bitte wenden Sie sich an die zuständige Stelle.",
			"There is no online application for “"+svc.Name+"” yet. Please contact the responsible office.")
		if res != nil && len(res.Offices) > 0 {
			rep.Text += " " + officeLine(&res.Offices[0])
		}
	}
	if res != nil {
		a.finish(st, rep, res)
	} else {
		rep.Links = append(rep.Links, Link{Label: t(st, "Leistung im Rathaus", "Service page"), URL: servicePath(svc.Key)})
		rep.Sources = []Source{keySource(svc.Key, svc.Name)}
	}
	return rep, nil
}

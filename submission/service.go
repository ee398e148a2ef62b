// SPDX-License-Identifier: EUPL-1.2

package submission

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"rathaus"
	"rathaus/audit"
	"rathaus/form"
	"rathaus/identity"
)

// GroupCommit modes (Options.GroupCommit).
const (
	GroupAuto = iota // on when the store prefers it (GroupCommitter; the SQL store on both dialects)
	GroupOn
	GroupOff
)

// Options tune a Service. Zero values give the defaults.
type Options struct {
	// GroupCommit chooses group commit (GroupAuto by default).
	GroupCommit int
	// MaxBatch bounds the submissions committed in one transaction (default 256).
	MaxBatch int
	// Linger is how long the group-commit writer waits for more
	// submissions before it commits a batch, but only while submissions
	// arrive at least that often (a peak); at a low rate it commits at
	// once. A commit costs about as much CPU as ten applications (the
	// transaction, its partly filled pages, the WAL write and fsync), so
	// fuller batches leave the CPU to the requests. Measured at 5,000/s on
	// 2 cores (bench/RESULTS.md): 7 submissions per commit and 250 µs of
	// CPU per request without, 50 and 200 µs with 5 ms (default 5 ms;
	// negative: never wait).
	Linger time.Duration
	// MaxAttachmentBytes bounds one attachment (default 20 MiB).
	MaxAttachmentBytes int64
	// MaxAttachments bounds the number of attachments (default 50).
	MaxAttachments int
	// MaxAnswerBytes bounds the JSON of the answers of a draft or an
	// application (default 1 MiB).
	MaxAnswerBytes int
	// DraftTTL is how long an untouched draft is kept (default 30 days).
	DraftTTL time.Duration
	// ReferencePrefix is put in front of reference numbers (e.g. "DA"); empty for none.
	ReferencePrefix string
	// Now returns the current time (tests); default time.Now.
	Now func() time.Time
	// OutboxDelay is how long the outbox pump waits after a commit before
	// it moves jobs into the job queue, so that one pump transaction
	// carries the jobs of many group commits (default 100 ms). Only for
	// stores whose OutboxPump.UsesOutbox is true.
	OutboxDelay time.Duration
	// OutboxInterval is how often the pump looks at the outbox without a
	// commit (default 1 s).
	OutboxInterval time.Duration
	// OutboxBatch bounds the jobs moved in one pump transaction (default 500).
	OutboxBatch int
	// OutboxMaxLag is how long the pump may postpone its work during a
	// peak (default 60 s): intake first, jobs at most this late; after
	// that it moves one batch per round while the peak lasts.
	OutboxMaxLag time.Duration
	// OutboxPeakRate is the intake rate (submissions per second, the
	// rate meter the group commit's linger reads too) from which on the intake counts as a peak and the pump
	// postpones its work (default 500/s). Below it the pump keeps the
	// job queue current within OutboxDelay; it also postpones whenever
	// submissions wait for the writer.
	OutboxPeakRate float64
}

// Service is the intake. It is safe for concurrent use; Close it to stop the
// group-commit writer.
type Service struct {
	store  Store
	sealer Sealer
	opts   Options
	gc     *committer // nil without group commit
	pump   *pump      // nil unless the store uses an outbox
	rate   *rateMeter // submissions per second: the committer's linger and the pump's peak
}

// New returns an intake service over store, sealing with sealer (a
// *vault.Vault whose KeyStore lives in the same database).
func New(store Store, sealer Sealer, opts Options) *Service {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Linger == 0 {
		opts.Linger = 5 * time.Millisecond
	}
	if opts.MaxAttachmentBytes <= 0 {
		opts.MaxAttachmentBytes = 20 << 20
	}
	if opts.MaxAttachments <= 0 {
		opts.MaxAttachments = 50
	}
	if opts.MaxAnswerBytes <= 0 {
		opts.MaxAnswerBytes = 1 << 20
	}
	if opts.DraftTTL <= 0 {
		opts.DraftTTL = 30 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{store: store, sealer: sealer, opts: opts}
	group := opts.GroupCommit == GroupOn
	if opts.GroupCommit == GroupAuto {
		if gc, ok := store.(GroupCommitter); ok && gc.PreferGroupCommit() {
			group = true
		}
	}
	s.rate = &rateMeter{}
	if group {
		s.gc = newCommitter(store, opts.MaxBatch, max(opts.Linger, 0), s.rate)
	}
	if op, ok := store.(OutboxPump); ok && op.UsesOutbox() {
		if opts.OutboxDelay <= 0 {
			opts.OutboxDelay = 100 * time.Millisecond
		}
		if opts.OutboxInterval <= 0 {
			opts.OutboxInterval = time.Second
		}
		if opts.OutboxBatch <= 0 {
			opts.OutboxBatch = 500
		}
		if opts.OutboxMaxLag <= 0 {
			opts.OutboxMaxLag = time.Minute
		}
		if opts.OutboxPeakRate <= 0 {
			opts.OutboxPeakRate = 500
		}
		s.opts = opts
		busy := func() bool {
			return s.gc != nil && len(s.gc.queue) > 0 || s.rate.perSecond() >= opts.OutboxPeakRate
		}
		s.pump = newPump(op, opts.OutboxDelay, opts.OutboxInterval, opts.OutboxMaxLag, opts.OutboxBatch, busy)
	}
	return s
}

// GroupCommit reports whether Submit uses group commit.
func (s *Service) GroupCommit() bool { return s.gc != nil }

// Close stops the group-commit writer after the submissions already queued
// have been committed and, with an outbox, moves the outbox's jobs into the
// job queue. Submit must not be called after Close.
func (s *Service) Close() error {
	if s.gc != nil {
		s.gc.close()
	}
	if s.pump != nil {
		s.pump.close()
	}
	return nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// ---- drafts ----

// DraftInput is what SaveDraft stores.
type DraftInput struct {
	Tenant      string
	ID          string // "" creates a new draft
	ServiceKey  string
	FormID      string
	FormVersion string
	// UserID is the logged-in citizen ("" when anonymous). A draft created
	// with a user belongs to that user; only they can read or change it.
	UserID string
	// ResumeToken is the current token of an anonymous draft; it is
	// required to change one and is consumed (a new one is returned).
	ResumeToken string
	Answers     form.Answers
	Step        string
}

// SaveDraft creates or updates a draft. For an anonymous draft it returns a
// fresh one-time resume token (the previous one no longer works); for a
// user's draft the token is "". Changing someone else's draft, or an
// anonymous draft with a wrong or used token, gives ENOTFOUND (nothing is
// revealed about its existence). Answers are sealed at rest (aad "draft/"+id).
func (s *Service) SaveDraft(ctx context.Context, in DraftInput) (*Draft, string, error) {
	if in.Tenant == "" || in.ServiceKey == "" || in.FormID == "" {
		return nil, "", rathaus.Errorf(rathaus.EINVALID, "Entwurf: Mandant, Leistung und Formular sind nötig / draft: tenant, service and form are required")
	}
	now := s.now()
	d := &Draft{Tenant: in.Tenant, ID: in.ID, ServiceKey: in.ServiceKey, FormID: in.FormID, FormVersion: in.FormVersion,
		OwnerUserID: in.UserID, Answers: in.Answers, Step: in.Step, UpdatedAt: now, ExpiresAt: now.Add(s.opts.DraftTTL)}
	var oldHash string
	if in.ID != "" {
		old, err := s.store.Draft(ctx, in.Tenant, in.ID)
		if err != nil {
			return nil, "", err
		}
		if old.OwnerUserID != "" {
			if old.OwnerUserID != in.UserID {
				return nil, "", notFoundDraft()
			}
		} else if in.ResumeToken == "" || hashToken(in.ResumeToken) != old.ResumeTokenHash {
			return nil, "", notFoundDraft()
		}
		// An anonymous draft saved by a citizen who has logged in since
		// (with the valid token) becomes theirs; the token is retired.
		d.OwnerUserID, oldHash = old.OwnerUserID, old.ResumeTokenHash
		if d.OwnerUserID == "" && in.UserID != "" {
			d.OwnerUserID = in.UserID
		}
	} else {
		d.ID = NewID()
	}
	var token string
	if d.OwnerUserID == "" {
		token = newToken()
		d.ResumeTokenHash = hashToken(token)
	}
	if err := s.sealDraft(ctx, d); err != nil {
		return nil, "", err
	}
	if oldHash != "" {
		// Consume the old token first: a concurrent use of the same token loses.
		if err := s.store.SwapResumeHash(ctx, d.Tenant, d.ID, oldHash, d.ResumeTokenHash); err != nil {
			return nil, "", err
		}
	}
	if err := s.store.PutDraft(ctx, d); err != nil {
		return nil, "", err
	}
	return d, token, nil
}

// Draft returns a user's draft with its answers opened. A draft of another
// user, an anonymous draft (use ResumeDraft) or an expired one gives
// ENOTFOUND.
func (s *Service) Draft(ctx context.Context, tenant, id, userID string) (*Draft, error) {
	if userID == "" {
		return nil, notFoundDraft()
	}
	d, err := s.store.Draft(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if d.OwnerUserID != userID {
		return nil, notFoundDraft()
	}
	return d, s.openDraft(ctx, d)
}

// ResumeDraft opens an anonymous draft with its one-time resume token. The
// token is consumed: the returned new token is the only one that works
// from now on (put it into the next resume link). A used, wrong or expired
// token gives ENOTFOUND.
func (s *Service) ResumeDraft(ctx context.Context, tenant, token string) (*Draft, string, error) {
	if token == "" {
		return nil, "", notFoundDraft()
	}
	h := hashToken(token)
	d, err := s.store.DraftByResumeHash(ctx, tenant, h)
	if err != nil {
		return nil, "", err
	}
	next := newToken()
	nh := hashToken(next)
	if err := s.store.SwapResumeHash(ctx, tenant, d.ID, h, nh); err != nil {
		return nil, "", err
	}
	d.ResumeTokenHash = nh
	return d, next, s.openDraft(ctx, d)
}

// DeleteDraft removes a draft of userID (or, with userID "", an anonymous
// draft given its current token). Unknown drafts give ENOTFOUND.
func (s *Service) DeleteDraft(ctx context.Context, tenant, id, userID, token string) error {
	d, err := s.store.Draft(ctx, tenant, id)
	if err != nil {
		return err
	}
	if d.OwnerUserID != userID || (userID == "" && (token == "" || hashToken(token) != d.ResumeTokenHash)) {
		return notFoundDraft()
	}
	return s.store.DeleteDraft(ctx, tenant, id)
}

func notFoundDraft() error {
	return rathaus.Errorf(rathaus.ENOTFOUND, "Entwurf nicht gefunden oder Link schon benutzt / draft not found or link already used")
}

func (s *Service) sealDraft(ctx context.Context, d *Draft) error {
	ans := d.Answers
	if ans == nil {
		ans = form.Answers{}
	}
	pt, err := json.Marshal(ans)
	if err != nil {
		return rathaus.Wrap(rathaus.EINVALID, err, "Entwurf: Antworten sind kein JSON / draft: answers are not JSON")
	}
	if len(pt) > s.opts.MaxAnswerBytes {
		return rathaus.Errorf(rathaus.EINVALID, "Entwurf zu umfangreich (höchstens %d Bytes) / draft too large", s.opts.MaxAnswerBytes)
	}
	d.SealedAnswers, err = s.sealer.Seal(ctx, d.Tenant, pt, []byte("draft/"+d.ID))
	return err
}

func (s *Service) openDraft(ctx context.Context, d *Draft) error {
	pt, err := s.sealer.Open(ctx, d.Tenant, d.SealedAnswers, []byte("draft/"+d.ID))
	if err != nil {
		return err
	}
	d.Answers, err = decodeAnswers(pt)
	return err
}

func newToken() string {
	var b [32]byte // 256 bits
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hashToken(t string) string {
	h := sha256.Sum256([]byte(t))
	return hex.EncodeToString(h[:])
}

func decodeAnswers(pt []byte) (form.Answers, error) {
	dec := json.NewDecoder(bytes.NewReader(pt))
	dec.UseNumber()
	var a form.Answers
	if err := dec.Decode(&a); err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "stored answers are not JSON")
	}
	return a, nil
}

// ---- submit ----

// Upload is one attached file as received.
type Upload struct {
	FieldPath string // path of the file field in the answers, "" for free uploads
	Filename  string
	MediaType string
	Content   []byte
}

// Applicant is who submits: the logged-in citizen (UserID, LoA, IdP) or
// anonymous (zero value).
type Applicant struct {
	UserID string
	LoA    identity.LoA
	IdP    string
}

// SubmitRequest is one submission.
type SubmitRequest struct {
	Tenant     string
	ServiceKey string
	Model      *form.Model // the form version the citizen filled in
	Answers    form.Answers
	// AnswersJSON, if set, is the JSON that Answers were decoded from (e.g.
	// the body of an API request); it is sealed as is instead of marshalling
	// Answers again. The caller guarantees both say the same.
	AnswersJSON []byte
	// Attachments are the uploaded files; their content is sealed with
	// aad = application id + "/" + attachment id.
	Attachments []Upload
	Applicant   Applicant
	// IdempotencyKey makes Submit idempotent: the same (tenant, key)
	// always returns the first application. Put a random value into the
	// check-your-answers page. Empty disables idempotency for this call.
	IdempotencyKey string
	// DraftID, if set, names the applicant's own draft, deleted after the
	// submission (drafts of others and anonymous drafts are left alone).
	DraftID string
}

// Receipt is the result of Submit.
type Receipt struct {
	Application *Application
	// Replayed is true when the idempotency key had been used before and
	// Application is the first application made with it.
	Replayed bool
}

// ValidationError carries the field errors of rejected answers. Submit
// returns it wrapped in a rathaus EINVALID error; see FieldErrors.
type ValidationError struct {
	Errors []form.FieldError
}

// Error lists the paths and codes (for logs; show Errors to citizens).
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(fe.Path + ": " + fe.Code)
	}
	return b.String()
}

// FieldErrors returns the field errors carried by err (nil if none).
func FieldErrors(err error) []form.FieldError {
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		return ve.Errors
	}
	return nil
}

// Submit validates the answers against the model (EINVALID with
// FieldErrors otherwise), seals answers and attachments with the vault
// (aad = application id) and commits the application with its audit entry
// and the jobs process.start and delivery.send in one transaction. It
// returns only after the commit: the application is durable when Submit
// returns nil. A repeated (tenant, idempotency key) returns the first
// application with Replayed set, and never makes a second one.
func (s *Service) Submit(ctx context.Context, req SubmitRequest) (*Receipt, error) {
	if req.Tenant == "" || req.ServiceKey == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "Antrag: Mandant und Leistung sind nötig / application: tenant and service are required")
	}
	if req.Model == nil || req.Model.ID == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "Antrag: Formular fehlt / application: form model missing")
	}
	if req.Answers == nil {
		req.Answers = form.Answers{}
	}
	if errs := req.Model.Validate(req.Answers, form.ValidateOptions{}); len(errs) > 0 {
		return nil, rathaus.Wrap(rathaus.EINVALID, &ValidationError{Errors: errs}, "Bitte prüfen Sie Ihre Angaben (%d Fehler) / please check your answers (%d errors)", len(errs), len(errs))
	}
	if len(req.Attachments) > s.opts.MaxAttachments {
		return nil, rathaus.Errorf(rathaus.EINVALID, "Zu viele Anhänge (höchstens %d) / too many attachments (at most %d)", s.opts.MaxAttachments, s.opts.MaxAttachments)
	}
	now := s.now()
	app := &Application{
		Tenant: req.Tenant, ID: NewID(), Reference: NewReference(s.opts.ReferencePrefix, now.Year()),
		ServiceKey: req.ServiceKey, FormID: req.Model.ID, FormVersion: req.Model.Version,
		ApplicantUserID: req.Applicant.UserID, LoA: req.Applicant.LoA, IdP: req.Applicant.IdP,
		Status: StatusSubmitted, SubmittedAt: now, IdempotencyKey: req.IdempotencyKey,
		Attachments: []Attachment{},
	}
	if app.IdempotencyKey == "" {
		app.IdempotencyKey = "auto:" + app.ID
	}
	pt := req.AnswersJSON
	if pt == nil {
		var err error
		if pt, err = json.Marshal(req.Answers); err != nil {
			return nil, rathaus.Wrap(rathaus.EINVALID, err, "Antworten sind kein JSON / answers are not JSON")
		}
	}
	if len(pt) > s.opts.MaxAnswerBytes {
		return nil, rathaus.Errorf(rathaus.EINVALID, "Angaben zu umfangreich (höchstens %d Bytes) / answers too large", s.opts.MaxAnswerBytes)
	}
	var err error
	if app.SealedAnswers, err = s.sealer.Seal(ctx, app.Tenant, pt, []byte(app.ID)); err != nil {
		return nil, err
	}
	in := &Intake{App: app}
	allowed := fileMediaTypes(req.Model)
	for i, up := range req.Attachments {
		if allowed != nil && !allowed[up.MediaType] {
			return nil, rathaus.Errorf(rathaus.EINVALID, "Anhang %d (%s): Dateityp %q ist für dieses Formular nicht zulässig / media type not allowed for this form", i+1, up.Filename, up.MediaType)
		}
		att, err := s.checkUpload(i, up)
		if err != nil {
			return nil, err
		}
		att.ID = NewID()
		blob, err := s.sealer.Seal(ctx, app.Tenant, up.Content, []byte(app.ID+"/"+att.ID))
		if err != nil {
			return nil, err
		}
		app.Attachments = append(app.Attachments, att)
		in.Blobs = append(in.Blobs, blob)
	}
	actor := req.Applicant.UserID
	if actor == "" {
		actor = "anonymous"
	}
	in.Audit = audit.Entry{Tenant: app.Tenant, Actor: actor, Action: "application.submit", Object: "application/" + app.ID,
		Details: map[string]string{"reference": app.Reference, "service": app.ServiceKey, "form": app.FormID + ":" + app.FormVersion}}
	args := JobArgs{Tenant: app.Tenant, ApplicationID: app.ID, ServiceKey: app.ServiceKey}
	in.Jobs = []Job{{Kind: JobProcessStart, Args: args}, {Kind: JobDeliverySend, Args: args}}

	for attempt := 0; ; attempt++ {
		err = s.commit(ctx, in)
		if rathaus.ErrorCode(err) == rathaus.ECONFLICT && in.Existing == nil && attempt < 3 {
			app.Reference = NewReference(s.opts.ReferencePrefix, now.Year()) // reference taken: draw again
			in.Audit.Details["reference"] = app.Reference
			continue
		}
		break
	}
	if err != nil {
		return nil, err
	}
	if in.Existing != nil {
		return &Receipt{Application: in.Existing, Replayed: true}, nil
	}
	if req.DraftID != "" && req.Applicant.UserID != "" {
		// Best effort, and only the applicant's own draft; anonymous
		// drafts expire (or DeleteDraft with their token).
		if d, err := s.store.Draft(ctx, req.Tenant, req.DraftID); err == nil && d.OwnerUserID == req.Applicant.UserID {
			_ = s.store.DeleteDraft(ctx, req.Tenant, req.DraftID)
		}
	}
	return &Receipt{Application: app}, nil
}

// commit stores one intake, through the group-commit writer if enabled.
func (s *Service) commit(ctx context.Context, in *Intake) error {
	in.Existing = nil
	var err error
	if s.gc != nil {
		err = s.gc.submit(ctx, in) // counts the arrival in s.rate
	} else {
		s.rate.add()
		err = s.store.CreateApplications(ctx, []*Intake{in})
	}
	if err == nil && s.pump != nil && in.Existing == nil {
		s.pump.poke()
	}
	return err
}

func (s *Service) checkUpload(i int, up Upload) (Attachment, error) {
	field := fmt.Sprintf("Anhang %d", i+1)
	name := strings.TrimSpace(up.Filename)
	switch {
	case name == "" || len(name) > 255 || strings.ContainsAny(name, "/\\\x00"):
		return Attachment{}, rathaus.Errorf(rathaus.EINVALID, "%s: ungültiger Dateiname / invalid file name", field)
	case len(up.Content) == 0:
		return Attachment{}, rathaus.Errorf(rathaus.EINVALID, "%s (%s): Datei ist leer / file is empty", field, name)
	case int64(len(up.Content)) > s.opts.MaxAttachmentBytes:
		return Attachment{}, rathaus.Errorf(rathaus.EINVALID, "%s (%s): Datei zu groß (höchstens %d Bytes) / file too large", field, name, s.opts.MaxAttachmentBytes)
	}
	if sn := Sniff(up.Content); isSniffable(up.MediaType) && sn != up.MediaType {
		return Attachment{}, rathaus.Errorf(rathaus.EINVALID, "%s (%s): Inhalt passt nicht zum Dateityp %s / content does not match media type", field, name, up.MediaType)
	}
	sum := sha256.Sum256(up.Content)
	return Attachment{FieldPath: up.FieldPath, Filename: name, MediaType: up.MediaType, Size: int64(len(up.Content)), SHA256: hex.EncodeToString(sum[:])}, nil
}

// fileMediaTypes returns the media types the file fields of m accept, or
// nil when any file field accepts every type (or there is none).
func fileMediaTypes(m *form.Model) map[string]bool {
	out := map[string]bool{}
	open := false
	found := false
	m.Walk(func(it *form.Item, _ *form.Item) bool {
		if it.Kind == form.KindField && it.Datentyp == form.TypFile {
			found = true
			if len(it.MediaTypes) == 0 {
				open = true
			}
			for _, mt := range it.MediaTypes {
				out[mt] = true
			}
		}
		return true
	})
	if !found || open {
		return nil
	}
	return out
}

// Sniff recognises the media types the universal form accepts from their
// first bytes: application/pdf, image/jpeg, image/png; "" otherwise.
func Sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "application/pdf"
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	}
	return ""
}

func isSniffable(mt string) bool {
	return mt == "application/pdf" || mt == "image/jpeg" || mt == "image/png"
}

// ---- reading ----

// Application returns an application without an access check (for jobs
// and for callers that checked access already). Returns ENOTFOUND.
func (s *Service) Application(ctx context.Context, tenant, id string) (*Application, error) {
	return s.store.Application(ctx, tenant, id)
}

// ApplicationsOf lists the logged-in citizen's own applications in tenant,
// newest first (for "my applications"); anonymous callers (userID "") get
// none.
func (s *Service) ApplicationsOf(ctx context.Context, tenant, userID string) ([]Application, error) {
	if userID == "" {
		return nil, nil
	}
	return s.store.ApplicationsOf(ctx, tenant, userID, 0)
}

// CanRead reports whether userID with grants may read app: the applicant
// themself, or staff with a caseworker (or operator) grant on the
// application's tenant or an ancestor of it.
func CanRead(app *Application, userID string, grants []identity.Grant) bool {
	if app == nil {
		return false
	}
	if userID != "" && app.ApplicantUserID == userID {
		return true
	}
	return identity.Allowed(grants, identity.RoleCaseworker, app.Tenant)
}

// IsStaffRead reports whether a read by userID is a staff access (to be
// audited as "application.read") rather than the applicant's own.
func IsStaffRead(app *Application, userID string) bool {
	return app != nil && (userID == "" || app.ApplicantUserID != userID)
}

// ApplicationFor returns an application if userID with grants may read it
// (CanRead); otherwise ENOTFOUND, so that nothing is revealed.
func (s *Service) ApplicationFor(ctx context.Context, tenant, id, userID string, grants []identity.Grant) (*Application, error) {
	app, err := s.store.Application(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if !CanRead(app, userID, grants) {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Antrag nicht gefunden / application not found")
	}
	return app, nil
}

// OpenAnswers decrypts the answers of app. It does not check access nor
// write an audit entry: callers check CanRead first and, when a staff
// member reads (IsStaffRead), append an audit entry "application.read"
// with Object "application/"+id.
func (s *Service) OpenAnswers(ctx context.Context, app *Application) (form.Answers, error) {
	pt, err := s.sealer.Open(ctx, app.Tenant, app.SealedAnswers, []byte(app.ID))
	if err != nil {
		return nil, err
	}
	return decodeAnswers(pt)
}

// AttachmentContent decrypts one attachment of app and checks its SHA-256.
// Access and audit as for OpenAnswers.
func (s *Service) AttachmentContent(ctx context.Context, app *Application, attachmentID string) ([]byte, error) {
	var att *Attachment
	for i := range app.Attachments {
		if app.Attachments[i].ID == attachmentID {
			att = &app.Attachments[i]
		}
	}
	if att == nil {
		return nil, rathaus.Errorf(rathaus.ENOTFOUND, "Anhang nicht gefunden / attachment not found")
	}
	sealed, err := s.store.AttachmentContent(ctx, app.Tenant, app.ID, attachmentID)
	if err != nil {
		return nil, err
	}
	pt, err := s.sealer.Open(ctx, app.Tenant, sealed, []byte(app.ID+"/"+attachmentID))
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(pt); hex.EncodeToString(sum[:]) != att.SHA256 {
		return nil, rathaus.Errorf(rathaus.EINTERNAL, "attachment %s does not match its checksum", attachmentID)
	}
	return pt, nil
}

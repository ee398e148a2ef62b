// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"rathaus"
)

// Problem types a subscriber reports in reject-submission events
// (fitconnect.md §7; names as recalled there, check against FITKO docs).
const (
	ProblemEncryptionIssue             = ProblemPrefix + "encryption-issue"
	ProblemMissingSchema               = ProblemPrefix + "missing-schema"
	ProblemUnsupportedSchema           = ProblemPrefix + "unsupported-schema"
	ProblemSchemaViolation             = ProblemPrefix + "schema-violation"
	ProblemSyntaxViolation             = ProblemPrefix + "syntax-violation"
	ProblemHashMismatch                = ProblemPrefix + "hash-mismatch"
	ProblemIncorrectAuthenticationTags = ProblemPrefix + "incorrect-authentication-tag"
	ProblemMissingAttachments          = ProblemPrefix + "missing-attachments"
	ProblemAttachmentsMismatch         = ProblemPrefix + "attachments-mismatch"
	ProblemMissingData                 = ProblemPrefix + "missing-data"
	ProblemInvalidEventLog             = ProblemPrefix + "invalid-event-log"
)

// Subscriber is the specialist application's side of FIT-Connect: it
// lists, fetches, decrypts and verifies the submissions of one destination
// and answers them with signed accept or reject events. It is safe for
// concurrent use.
type Subscriber struct {
	c             *conn
	destinationID string
	decrypt       map[string]*jose.JSONWebKey
	signing       *jose.JSONWebKey

	// DataSchemas are the JSON Schemas of the data this application
	// accepts, by schemaUri. Data with another schemaUri is rejected as
	// unsupported-schema; XML data (application/xml) is not schema-checked
	// here.
	DataSchemas map[string]*jsonschema.Schema
	// MetadataSchema, if set, validates the metadata in full (e.g. the
	// FITKO metadata schema compiled with CompileJSONSchema) on top of the
	// built-in checks.
	MetadataSchema *jsonschema.Schema

	// TrustRoots anchor the x5c chains of destination keys met while
	// verifying the event log (events issued by a destination).
	TrustRoots *x509.CertPool

	mu   sync.Mutex
	keys map[string]*Key
}

// NewSubscriber returns a subscriber of destinationID. decryptionKeys are
// the RSA private keys of the destination's encryption keys (several during
// a key rollover, chosen by kid); signingKey is the RSA private key whose
// public half is the destination's verify key.
func NewSubscriber(ep Endpoint, destinationID string, decryptionKeys []*jose.JSONWebKey, signingKey *jose.JSONWebKey, now func() time.Time) *Subscriber {
	s := &Subscriber{c: newConn(ep, now), destinationID: destinationID, decrypt: map[string]*jose.JSONWebKey{},
		signing: signingKey, DataSchemas: map[string]*jsonschema.Schema{}, keys: map[string]*Key{}}
	for _, k := range decryptionKeys {
		s.decrypt[k.KeyID] = k
	}
	return s
}

// List returns one page of the submissions waiting for pickup.
func (s *Subscriber) List(ctx context.Context, offset, limit int) (*SubmissionList, error) {
	var l SubmissionList
	u := s.c.api("/destinations/" + url.PathEscape(s.destinationID) + "/submissions?offset=" + itoa(offset) + "&limit=" + itoa(limit))
	if err := s.c.getJSON(ctx, u, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// ReceivedAttachment is one decrypted attachment.
type ReceivedAttachment struct {
	AttachmentDescription
	Content []byte
}

// Received is a fetched, decrypted and verified submission.
type Received struct {
	DestinationID string
	SubmissionID  string
	CaseID        string
	PublicService PublicService
	Metadata      *Metadata
	Data          []byte
	Attachments   []ReceivedAttachment // in metadata order
	Tags          AuthenticationTags   // of the received JWEs
	SETSchema     string               // $schema of the submit-submission SET, reused for our answer
}

// VerificationError lists what is wrong with a received submission, in
// the form of the problems of a reject-submission event.
type VerificationError struct {
	Problems []Problem
}

// Error lists the problems by instance.
func (e *VerificationError) Error() string {
	var parts []string
	for _, p := range e.Problems {
		parts = append(parts, p.Instance+": "+p.Detail)
	}
	return "submission failed verification: " + strings.Join(parts, "; ")
}

func problem(typ, instance, title, detail string) Problem {
	return Problem{Type: typ, Instance: instance, Title: title, Detail: detail}
}

// Receive fetches one submission and verifies it as a specialist
// application must: decrypts metadata, data and attachments; validates the
// metadata; checks the data hash and the data's JSON Schema; checks that
// the attachments equal the announced set and their hashes; and compares the
// JWE authentication tags with the delivery service's submit-submission SET
// (verified with the service JWKS). On a failed check it returns the
// Received so far and an EINVALID error wrapping *VerificationError, whose
// problems the caller passes to Reject.
func (s *Subscriber) Receive(ctx context.Context, submissionID string) (*Received, error) {
	var doc SubmissionDoc
	if err := s.c.getJSON(ctx, s.c.api("/submissions/"+url.PathEscape(submissionID)), &doc); err != nil {
		return nil, err
	}
	if doc.DestinationID != s.destinationID || doc.SubmissionID != submissionID {
		return nil, rathaus.Errorf(rathaus.EINVALID, "receive: answer is for another submission or destination")
	}
	r := &Received{DestinationID: doc.DestinationID, SubmissionID: doc.SubmissionID, CaseID: doc.CaseID, PublicService: doc.PublicService}
	fail := func(p ...Problem) (*Received, error) {
		ve := &VerificationError{Problems: p}
		return r, rathaus.Wrap(rathaus.EINVALID, ve, "submission %s failed verification: %s: %s", submissionID, p[0].Instance, p[0].Detail)
	}
	var err error
	if r.Tags.Metadata, err = AuthTag(doc.EncryptedMetadata); err != nil {
		return fail(problem(ProblemEncryptionIssue, "metadata", "Entschlüsselung fehlgeschlagen / Decryption failed", rathaus.ErrorMessage(err)))
	}
	metaJSON, err := s.open(doc.EncryptedMetadata)
	if err != nil {
		return fail(problem(ProblemEncryptionIssue, "metadata", "Entschlüsselung fehlgeschlagen / Decryption failed", rathaus.ErrorMessage(err)))
	}
	meta, err := ParseMetadata(metaJSON)
	if err != nil {
		return fail(problem(ProblemSchemaViolation, "metadata", "Metadaten ungültig / Invalid metadata", rathaus.ErrorMessage(err)))
	}
	if s.MetadataSchema != nil {
		if err := ValidateJSON(s.MetadataSchema, metaJSON); err != nil {
			return fail(problem(ProblemSchemaViolation, "metadata", "Metadaten ungültig / Invalid metadata", rathaus.ErrorMessage(err)))
		}
	}
	r.Metadata = meta
	dd := meta.ContentStructure.Data
	if dd == nil || doc.EncryptedData == "" {
		return fail(problem(ProblemMissingData, "data", "Fachdaten fehlen / Data missing", "the submission carries no data"))
	}
	r.Tags.Data, _ = AuthTag(doc.EncryptedData)
	if r.Data, err = s.open(doc.EncryptedData); err != nil {
		return fail(problem(ProblemEncryptionIssue, "data", "Entschlüsselung fehlgeschlagen / Decryption failed", rathaus.ErrorMessage(err)))
	}
	if SHA512Hex(r.Data) != dd.Hash.Content {
		return fail(problem(ProblemHashMismatch, "data", "Prüfsumme falsch / Hash mismatch", "SHA-512 of the data does not match the metadata"))
	}
	if dd.SubmissionSchema.MimeType == "application/json" {
		sch, ok := s.DataSchemas[dd.SubmissionSchema.SchemaURI]
		if !ok {
			return fail(problem(ProblemUnsupportedSchema, "data", "Schema nicht unterstützt / Unsupported schema", "schema "+dd.SubmissionSchema.SchemaURI+" is not supported"))
		}
		if err := ValidateJSON(sch, r.Data); err != nil {
			return fail(problem(ProblemSchemaViolation, "data", "Fachdaten verletzen das Schema / Data violates the schema", rathaus.ErrorMessage(err)))
		}
	}
	var described []string
	for _, a := range meta.ContentStructure.Attachments {
		described = append(described, a.AttachmentID)
	}
	announced := slices.Clone(doc.Attachments)
	slices.Sort(announced)
	slices.Sort(described)
	if !slices.Equal(announced, described) {
		return fail(problem(ProblemAttachmentsMismatch, "submission", "Anlagen stimmen nicht überein / Attachments mismatch",
			"announced attachments "+strings.Join(announced, ",")+" differ from the metadata's "+strings.Join(described, ",")))
	}
	if len(described) > 0 {
		r.Tags.Attachments = map[string]string{}
	}
	for _, a := range meta.ContentStructure.Attachments {
		inst := "attachment:" + a.AttachmentID
		b, err := s.c.do(ctx, http.MethodGet, s.c.api("/submissions/"+url.PathEscape(submissionID)+"/attachments/"+a.AttachmentID), "", nil, http.StatusOK)
		if err != nil {
			if rathaus.ErrorCode(err) == rathaus.ENOTFOUND {
				return fail(problem(ProblemMissingAttachments, inst, "Anlage fehlt / Attachment missing", rathaus.ErrorMessage(err)))
			}
			return r, err
		}
		tok := strings.TrimSpace(string(b))
		r.Tags.Attachments[a.AttachmentID], _ = AuthTag(tok)
		pt, err := s.open(tok)
		if err != nil {
			return fail(problem(ProblemEncryptionIssue, inst, "Entschlüsselung fehlgeschlagen / Decryption failed", rathaus.ErrorMessage(err)))
		}
		if SHA512Hex(pt) != a.Hash.Content {
			return fail(problem(ProblemHashMismatch, inst, "Prüfsumme falsch / Hash mismatch", "SHA-512 of attachment "+a.AttachmentID+" does not match the metadata"))
		}
		r.Attachments = append(r.Attachments, ReceivedAttachment{AttachmentDescription: a, Content: pt})
	}
	submitSET, err := s.submitEvent(ctx, r)
	if err != nil {
		if errors.Is(err, context.Canceled) || rathaus.ErrorCode(err) == rathaus.EUNAVAILABLE {
			return r, err
		}
		return fail(problem(ProblemInvalidEventLog, "submission", "Ereignisprotokoll ungültig / Invalid event log", rathaus.ErrorMessage(err)))
	}
	r.SETSchema = submitSET.Schema
	if err := submitSET.CheckAuthenticationTags(r.Tags); err != nil {
		return fail(problem(ProblemIncorrectAuthenticationTags, "submission", "Authentifizierungs-Tags falsch / Incorrect authentication tags", rathaus.ErrorMessage(err)))
	}
	return r, nil
}

// open decrypts a JWE with the decryption key its kid names.
func (s *Subscriber) open(token string) ([]byte, error) {
	kid, err := JWEKeyID(token)
	if err != nil {
		return nil, err
	}
	k := s.decrypt[kid]
	if k == nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "jwe: encrypted for unknown key %q", kid)
	}
	pt, _, err := DecryptJWE(token, k)
	return pt, err
}

// submitEvent finds and verifies the submit-submission SET of the case.
func (s *Subscriber) submitEvent(ctx context.Context, r *Received) (*SET, error) {
	tokens, err := s.c.events(ctx, r.CaseID)
	if err != nil {
		return nil, err
	}
	for _, tok := range tokens {
		set, err := verifyEvent(ctx, s.c, tok, r.DestinationID, r.SubmissionID, r.CaseID, func(kid string) (*Key, error) {
			return destinationKey(ctx, s.c, s.TrustRoots, &s.mu, s.keys, r.DestinationID, kid, UseSignature)
		})
		if err != nil {
			return nil, err
		}
		if set.Event == EventSubmitSubmission {
			return set, nil
		}
	}
	return nil, rathaus.Errorf(rathaus.EINVALID, "event log has no submit-submission event")
}

// Accept posts a signed accept-submission event carrying the tags of the
// received JWEs.
func (s *Subscriber) Accept(ctx context.Context, r *Received) error {
	tags := r.Tags
	return s.post(ctx, r, EventAcceptSubmission, EventPayload{AuthenticationTags: &tags})
}

// Reject posts a signed reject-submission event with the problems (at
// least one).
func (s *Subscriber) Reject(ctx context.Context, r *Received, problems ...Problem) error {
	if len(problems) == 0 {
		return rathaus.Errorf(rathaus.EINVALID, "reject: at least one problem is required")
	}
	return s.post(ctx, r, EventRejectSubmission, EventPayload{Problems: problems})
}

func (s *Subscriber) post(ctx context.Context, r *Received, event string, payload EventPayload) error {
	schema := r.SETSchema
	if schema == "" {
		schema = SETPayloadSchema
	}
	tok, err := SignSET(SET{Schema: schema, ID: uuid.NewString(), Issuer: s.destinationID, IssuedAt: s.c.now(),
		Subject: "submission:" + r.SubmissionID, Txn: "case:" + r.CaseID, Event: event, Payload: payload}, s.signing)
	if err != nil {
		return err
	}
	_, err = s.c.do(ctx, http.MethodPost, s.c.api("/cases/"+url.PathEscape(r.CaseID)+"/events"), ContentTypeJOSE, []byte(tok), http.StatusNoContent)
	return err
}

// ProblemsOf returns the problems of a verification failure returned by
// Receive, or nil.
func ProblemsOf(err error) []Problem {
	if ve, ok := errors.AsType[*VerificationError](err); ok {
		return ve.Problems
	}
	return nil
}

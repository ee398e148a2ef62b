// SPDX-License-Identifier: EUPL-1.2

package fitconnect

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"rathaus"
)

// Sender is the online-service side of FIT-Connect: it delivers
// submissions to destinations and follows their event logs. It is safe for
// concurrent use.
type Sender struct {
	c     *conn
	roots *x509.CertPool

	mu   sync.Mutex
	keys map[string]*Key // destination/kid → checked key
}

// NewSender returns a Sender for ep. Destination keys must chain to roots.
// now may be nil (time.Now).
func NewSender(ep Endpoint, roots *x509.CertPool, now func() time.Time) *Sender {
	return &Sender{c: newConn(ep, now), roots: roots, keys: map[string]*Key{}}
}

// Attachment is one file to deliver.
type Attachment struct {
	Content     []byte
	Filename    string
	MimeType    string
	Purpose     string // PurposeForm, PurposeAttachment or PurposeReport
	Description string
}

// SendRequest is one submission to deliver.
type SendRequest struct {
	DestinationID string
	// Service is the administrative service; Identifier is the LeiKa URN.
	Service PublicService
	Region  string
	// Data is the specialist data (Fachdaten) in the format of DataSchema.
	Data       []byte
	DataSchema SubmissionSchema
	// Attachments are delivered in this order; their ids are generated.
	Attachments               []Attachment
	AuthenticationInformation []AuthenticationInformation
	PaymentInformation        *PaymentInformation
	ReplyChannel              *ReplyChannel
	AdditionalReferenceInfo   *AdditionalReferenceInfo
	// Callback asks the delivery service to call the sender back on new
	// events (optional).
	Callback *CallbackConfig
}

// Sent is what the sender keeps of a delivered submission to follow it.
type Sent struct {
	DestinationID string
	SubmissionID  string
	CaseID        string
	AttachmentIDs []string // in the order of SendRequest.Attachments
	Tags          AuthenticationTags
	Metadata      Metadata
}

// Destination is the public destination document.
type DestinationInfo struct {
	DestinationID    string          `json:"destinationId"`
	Status           string          `json:"status"`
	EncryptionKid    string          `json:"encryptionKid"`
	PublicServices   []PublicService `json:"publicServices"`
	MetadataVersions []string        `json:"metadataVersions"`
}

// Destination fetches the destination document.
func (s *Sender) Destination(ctx context.Context, id string) (*DestinationInfo, error) {
	var d DestinationInfo
	if err := s.c.getJSON(ctx, s.c.api("/destinations/"+url.PathEscape(id)), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// DestinationKey fetches a destination key and checks it for use against
// the trust roots. Checked keys are cached.
func (s *Sender) DestinationKey(ctx context.Context, destinationID, kid string, use KeyUse) (*Key, error) {
	return destinationKey(ctx, s.c, s.roots, &s.mu, s.keys, destinationID, kid, use)
}

func destinationKey(ctx context.Context, c *conn, roots *x509.CertPool, mu *sync.Mutex, cache map[string]*Key, destinationID, kid string, use KeyUse) (*Key, error) {
	ck := destinationID + "/" + kid + "/" + string(use)
	mu.Lock()
	k := cache[ck]
	mu.Unlock()
	if k != nil {
		return k, nil
	}
	b, err := c.do(ctx, http.MethodGet, c.api("/destinations/"+url.PathEscape(destinationID)+"/keys/"+url.PathEscape(kid)), "", nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	k, err = ParsePublicKey(b)
	if err != nil {
		return nil, err
	}
	if k.KeyID != kid {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destination %s: asked for key %s, got %s", destinationID, kid, k.KeyID)
	}
	if err := CheckKey(k, use, KeyCheck{Roots: roots, Now: c.now()}); err != nil {
		return nil, rathaus.Errorf(rathaus.EINVALID, "destination %s: %s", destinationID, rathaus.ErrorMessage(err))
	}
	mu.Lock()
	cache[ck] = k
	mu.Unlock()
	return k, nil
}

// BuildMetadata returns the metadata record of req with SHA-512 hashes of
// the plaintexts and the given attachment ids.
func BuildMetadata(req *SendRequest, attachmentIDs []string) Metadata {
	m := Metadata{
		Schema: MetadataSchema100,
		ContentStructure: ContentStructure{
			Data:        &DataDescription{Hash: SHA512(req.Data), SubmissionSchema: req.DataSchema},
			Attachments: []AttachmentDescription{},
		},
		PublicServiceType:         &PublicServiceType{Identifier: req.Service.Identifier, Name: req.Service.Name},
		AuthenticationInformation: req.AuthenticationInformation,
		PaymentInformation:        req.PaymentInformation,
		ReplyChannel:              req.ReplyChannel,
		AdditionalReferenceInfo:   req.AdditionalReferenceInfo,
	}
	for i, a := range req.Attachments {
		m.ContentStructure.Attachments = append(m.ContentStructure.Attachments, AttachmentDescription{
			AttachmentID: attachmentIDs[i], Hash: SHA512(a.Content), Purpose: a.Purpose,
			Filename: a.Filename, Description: a.Description, MimeType: a.MimeType,
		})
	}
	return m
}

// Prepared is an announced submission with its encrypted parts. Persist
// it (it is JSON) before Complete to resume after a crash without
// announcing twice; it holds only ciphertext.
type Prepared struct {
	Sent
	EncryptedMetadata    string
	EncryptedData        string
	EncryptedAttachments []string // in the order of Sent.AttachmentIDs
}

// Send delivers one submission: Prepare, then Complete. The caller keeps
// the content until Status reports accepted, to resend after a rejection.
// If a step after the announcement fails, the partial Sent is returned with
// the error; the delivery service deletes the incomplete submission after
// a day.
func (s *Sender) Send(ctx context.Context, req SendRequest) (*Sent, error) {
	p, err := s.Prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	sent, err := s.Complete(ctx, p)
	if err != nil {
		return &p.Sent, err
	}
	return sent, nil
}

// Prepare fetches the destination and its encryption key (chain checked),
// builds and validates the metadata, encrypts metadata, data and every
// attachment separately, and announces the submission.
func (s *Sender) Prepare(ctx context.Context, req SendRequest) (*Prepared, error) {
	if len(req.Data) == 0 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "send: data is required")
	}
	d, err := s.Destination(ctx, req.DestinationID)
	if err != nil {
		return nil, err
	}
	if d.Status != "active" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "send: destination %s is %s", d.DestinationID, d.Status)
	}
	if !slices.ContainsFunc(d.PublicServices, func(p PublicService) bool { return p.Identifier == req.Service.Identifier }) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "send: destination %s does not offer %s", d.DestinationID, req.Service.Identifier)
	}
	if len(d.MetadataVersions) > 0 && !slices.Contains(d.MetadataVersions, "1.0.0") {
		return nil, rathaus.Errorf(rathaus.EINVALID, "send: destination %s accepts metadata %v, we write 1.0.0", d.DestinationID, d.MetadataVersions)
	}
	key, err := s.DestinationKey(ctx, d.DestinationID, d.EncryptionKid, UseEncryption)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(req.Attachments))
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	meta := BuildMetadata(&req, ids)
	if err := meta.Validate(); err != nil {
		return nil, err
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "send: metadata")
	}
	jwk := &key.JSONWebKey
	p := &Prepared{Sent: Sent{DestinationID: d.DestinationID, AttachmentIDs: ids, Metadata: meta}}
	if p.EncryptedMetadata, err = EncryptJWE(metaJSON, jwk, "application/json"); err != nil {
		return nil, err
	}
	if p.EncryptedData, err = EncryptJWE(req.Data, jwk, req.DataSchema.MimeType); err != nil {
		return nil, err
	}
	p.Tags.Metadata, _ = AuthTag(p.EncryptedMetadata)
	p.Tags.Data, _ = AuthTag(p.EncryptedData)
	if len(ids) > 0 {
		p.Tags.Attachments = map[string]string{}
	}
	for i, a := range req.Attachments {
		tok, err := EncryptJWE(a.Content, jwk, a.MimeType)
		if err != nil {
			return nil, err
		}
		p.EncryptedAttachments = append(p.EncryptedAttachments, tok)
		p.Tags.Attachments[ids[i]], _ = AuthTag(tok)
	}
	announce, _ := json.Marshal(announceRequest{DestinationID: d.DestinationID, AnnouncedAttachments: ids,
		PublicService: &PublicService{Identifier: req.Service.Identifier, Name: req.Service.Name},
		Region:        req.Region, Callback: req.Callback})
	b, err := s.c.do(ctx, http.MethodPost, s.c.api("/submissions"), "application/json", announce, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	var created SubmissionID
	if err := json.Unmarshal(b, &created); err != nil || created.SubmissionID == "" || created.CaseID == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "send: unexpected answer to POST /submissions")
	}
	p.SubmissionID, p.CaseID = created.SubmissionID, created.CaseID
	return p, nil
}

// Complete uploads the attachments of a prepared submission and submits
// it. It may be called again after a failure or crash: uploads are
// replaced, and if the submission turns out to be submitted already, the
// event log decides (its submit-submission event must carry our tags).
func (s *Sender) Complete(ctx context.Context, p *Prepared) (*Sent, error) {
	if len(p.EncryptedAttachments) != len(p.AttachmentIDs) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "send: prepared submission has %d attachments for %d ids", len(p.EncryptedAttachments), len(p.AttachmentIDs))
	}
	sent := p.Sent
	for i, id := range p.AttachmentIDs {
		path := "/submissions/" + url.PathEscape(p.SubmissionID) + "/attachments/" + id
		_, err := s.c.do(ctx, http.MethodPut, s.c.api(path), ContentTypeJOSE, []byte(p.EncryptedAttachments[i]), http.StatusNoContent)
		if rathaus.ErrorCode(err) == rathaus.ECONFLICT {
			return s.confirmSubmitted(ctx, &sent)
		}
		if err != nil {
			return nil, err
		}
	}
	body, _ := json.Marshal(submitRequest{EncryptedMetadata: p.EncryptedMetadata, EncryptedData: p.EncryptedData})
	_, err := s.c.do(ctx, http.MethodPut, s.c.api("/submissions/"+url.PathEscape(p.SubmissionID)), "application/json", body, http.StatusOK)
	if rathaus.ErrorCode(err) == rathaus.ECONFLICT {
		return s.confirmSubmitted(ctx, &sent)
	}
	if err != nil {
		return nil, err
	}
	return &sent, nil
}

// confirmSubmitted checks, after a conflict, that the submission was
// submitted with exactly our parts (Status compares the tags).
func (s *Sender) confirmSubmitted(ctx context.Context, sent *Sent) (*Sent, error) {
	st, err := s.Status(ctx, sent)
	if err != nil {
		return nil, err
	}
	if st.State == StateIncomplete || st.State == StateDeleted {
		return nil, rathaus.Errorf(rathaus.ECONFLICT, "send: submission %s is %s", sent.SubmissionID, st.State)
	}
	return sent, nil
}

// Status is the state of a delivered submission as its verified event log
// shows it.
type Status struct {
	State    string    // StateSubmitted, StateAccepted, StateRejected, StateDeleted, …
	Problems []Problem // the reasons of a rejection
	Events   []*SET    // the verified event log, oldest first
}

// Status fetches the event log of the case, verifies every SET (delivery
// service events with the service JWKS, destination events with the
// destination's verify key, chain checked), checks that submit and accept
// events carry the tags of what was sent, and returns the resulting state.
func (s *Sender) Status(ctx context.Context, sent *Sent) (*Status, error) {
	tokens, err := s.c.events(ctx, sent.CaseID)
	if err != nil {
		return nil, err
	}
	st := &Status{State: StateIncomplete}
	for _, tok := range tokens {
		set, err := verifyEvent(ctx, s.c, tok, sent.DestinationID, sent.SubmissionID, sent.CaseID,
			func(kid string) (*Key, error) {
				return s.DestinationKey(ctx, sent.DestinationID, kid, UseSignature)
			})
		if err != nil {
			return nil, err
		}
		switch set.Event {
		case EventSubmitSubmission, EventAcceptSubmission:
			if err := set.CheckAuthenticationTags(sent.Tags); err != nil {
				return nil, rathaus.Errorf(rathaus.EINVALID, "status: %s", rathaus.ErrorMessage(err))
			}
		}
		st.Events = append(st.Events, set)
		switch set.Event {
		case EventSubmitSubmission:
			st.State = StateSubmitted
		case EventForwardSubmission:
			st.State = StateForwarded
		case EventAcceptSubmission:
			st.State = StateAccepted
		case EventRejectSubmission:
			st.State, st.Problems = StateRejected, set.Payload.Problems
		case EventDeleteSubmission:
			st.State = StateDeleted
		}
	}
	return st, nil
}

// Wait polls Status every interval until the submission is decided
// (accepted, rejected or deleted) or ctx ends. Callbacks are only a hint
// to poll sooner; polling is the fallback the spec demands.
func (s *Sender) Wait(ctx context.Context, sent *Sent, interval time.Duration) (*Status, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	last := &Status{State: StateSubmitted}
	for {
		st, err := s.Status(ctx, sent)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return nil, err
		}
		switch last = st; st.State {
		case StateAccepted, StateRejected, StateDeleted:
			return st, nil
		}
		select {
		case <-ctx.Done():
		case <-t.C:
			continue
		}
		break
	}
	return last, rathaus.Wrap(rathaus.EUNAVAILABLE, ctx.Err(), "submission %s still %s", sent.SubmissionID, last.State)
}

// verifyEvent verifies one SET of a case, picking the key by issuer: a
// UUID issuer must be the destination (its verify key), anything else must
// be the delivery service (its JWKS).
func verifyEvent(ctx context.Context, c *conn, tok, destinationID, submissionID, caseID string, destKey func(kid string) (*Key, error)) (*SET, error) {
	iss, err := unverifiedIssuer(tok)
	if err != nil {
		return nil, err
	}
	opts := VerifyOptions{Issuer: iss, Subject: "submission:" + submissionID, Txn: "case:" + caseID, Now: c.now()}
	if uuid.Validate(iss) != nil {
		if c.ep.ServiceIssuer != "" {
			opts.Issuer = c.ep.ServiceIssuer
		}
		return c.verifyServiceSET(ctx, tok, opts)
	}
	if iss != destinationID {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: issuer %s is neither the delivery service nor destination %s", iss, destinationID)
	}
	obj, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{SignatureAlgorithm})
	if err != nil || len(obj.Signatures) != 1 {
		return nil, rathaus.Errorf(rathaus.EINVALID, "set: not a single-signature JWS")
	}
	k, err := destKey(obj.Signatures[0].Protected.KeyID)
	if err != nil {
		return nil, err
	}
	return VerifySET(tok, &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.JSONWebKey}}, opts)
}

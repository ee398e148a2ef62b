// SPDX-License-Identifier: EUPL-1.2

package delivery

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"rathaus"
	"rathaus/fitconnect"
)

// FITConnectConfig configures a FIT-Connect route: rathaus as sender
// (Onlinedienst) to a delivery service.
type FITConnectConfig struct {
	// SubmissionAPI and TokenURL are the environment's URLs (FITKO test
	// or production, or rathaus's own delivery service).
	SubmissionAPI string `json:"submissionApi"`
	TokenURL      string `json:"tokenUrl"`
	// ClientID and ClientSecret are the sender's OAuth2 client
	// credentials (client_secret_post).
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	// DestinationID is the destination; when empty, the destination is
	// found through the Routing API by the service's LeiKa key and the
	// application's ARS.
	DestinationID string `json:"destinationId,omitempty"`
	RoutingAPI    string `json:"routingApi,omitempty"`
	// RoutingKeys is the JWKS (JSON) that verifies destinationSignature.
	RoutingKeys json.RawMessage `json:"routingKeys,omitempty"`
	// ServiceName is the name of the service in the metadata.
	ServiceName string `json:"serviceName,omitempty"`
	// DataSchemaURI is the schema URI of the data (JSON answers); default
	// "urn:rathaus:form:<form id>:<version>".
	DataSchemaURI string `json:"dataSchemaUri,omitempty"`
	// TrustRootsPEM adds trust roots for destination keys.
	TrustRootsPEM string `json:"trustRootsPem,omitempty"`
	// ServiceIssuer pins the iss of the delivery service's SETs.
	ServiceIssuer string `json:"serviceIssuer,omitempty"`
	// CallbackURL and CallbackSecret, if set, ask the delivery service to
	// call rathaus back on new events (https://PORTAL/zustellung/fitconnect/
	// <route id>); the secret (at least 32 characters) verifies the
	// HMAC-SHA512. Without them decisions are polled every sweep.
	CallbackURL    string `json:"callbackUrl,omitempty"`
	CallbackSecret string `json:"callbackSecret,omitempty"`
}

// FITConnect is the FIT-Connect sender channel. The announced submission
// (encrypted parts only) is saved as the delivery's state before it is
// completed, so an attempt after a crash or timeout completes the same
// submission instead of sending a second one.
type FITConnect struct {
	cfg    FITConnectConfig
	sender *fitconnect.Sender
	router *fitconnect.Router
}

// NewFITConnect checks cfg and returns the channel.
func NewFITConnect(cfg FITConnectConfig, roots *x509.CertPool, client *http.Client) (*FITConnect, error) {
	if cfg.SubmissionAPI == "" || cfg.TokenURL == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, rathaus.Errorf(rathaus.EINVALID, "fitconnect: fields submissionApi, tokenUrl, clientId and clientSecret are required")
	}
	if (cfg.CallbackURL == "") != (cfg.CallbackSecret == "") || (cfg.CallbackSecret != "" && len(cfg.CallbackSecret) < 32) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "fitconnect: fields callbackUrl and callbackSecret go together; the secret needs at least 32 characters")
	}
	pool := x509.NewCertPool()
	if roots != nil {
		pool = roots.Clone()
	}
	if cfg.TrustRootsPEM != "" && !pool.AppendCertsFromPEM([]byte(cfg.TrustRootsPEM)) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "fitconnect: field trustRootsPem: no certificate")
	}
	f := &FITConnect{cfg: cfg, sender: fitconnect.NewSender(fitconnect.Endpoint{
		SubmissionAPI: cfg.SubmissionAPI, TokenURL: cfg.TokenURL, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		HTTPClient: client, UserAgent: "rathaus-delivery/1", ServiceIssuer: cfg.ServiceIssuer,
	}, pool, nil)}
	if cfg.DestinationID == "" {
		if cfg.RoutingAPI == "" || len(cfg.RoutingKeys) == 0 {
			return nil, rathaus.Errorf(rathaus.EINVALID, "fitconnect: field destinationId: empty, and no routingApi with routingKeys")
		}
		var ks jose.JSONWebKeySet
		if err := json.Unmarshal(cfg.RoutingKeys, &ks); err != nil {
			return nil, rathaus.Errorf(rathaus.EINVALID, "fitconnect: field routingKeys: %v", err)
		}
		f.router = &fitconnect.Router{BaseURL: cfg.RoutingAPI, HTTPClient: client, SignatureKeys: &ks}
	}
	return f, nil
}

// fcPermanent: errors a retry cannot fix (bad keys, bad credentials,
// unknown destination, invalid metadata) go to the dead letter.
func fcPermanent(err error) error {
	switch rathaus.ErrorCode(err) {
	case rathaus.EINVALID, rathaus.EUNAUTHORIZED, rathaus.EFORBIDDEN, rathaus.ENOTFOUND:
		return Permanent(err)
	}
	return err
}

// Request builds the send request of app.
func (f *FITConnect) Request(ctx context.Context, app *Application) (*fitconnect.SendRequest, error) {
	data, err := json.Marshal(app.Answers)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "fitconnect data")
	}
	dest := f.cfg.DestinationID
	if dest == "" {
		routes, err := f.router.Routes(ctx, app.ServiceKey, app.Tenant)
		if err != nil {
			return nil, err
		}
		if len(routes.Routes) == 0 {
			return nil, rathaus.Errorf(rathaus.ENOTFOUND, "fitconnect: no destination for service %s in %s", app.ServiceKey, app.Tenant)
		}
		dest = routes.Routes[0].DestinationID
	}
	schema := f.cfg.DataSchemaURI
	if schema == "" {
		schema = "urn:rathaus:form:" + app.FormID + ":" + app.FormVersion
	}
	name := f.cfg.ServiceName
	if name == "" {
		name = app.ServiceName
	}
	req := &fitconnect.SendRequest{
		DestinationID: dest,
		Service:       fitconnect.PublicService{Identifier: "urn:de:fim:leika:leistung:" + app.ServiceKey, Name: name},
		Data:          data,
		DataSchema:    fitconnect.SubmissionSchema{SchemaURI: schema, MimeType: "application/json"},
	}
	if f.cfg.CallbackURL != "" {
		req.Callback = &fitconnect.CallbackConfig{URL: f.cfg.CallbackURL, Secret: f.cfg.CallbackSecret}
	}
	if app.ReplyEmail != "" {
		req.ReplyChannel = &fitconnect.ReplyChannel{EMail: &fitconnect.EMailChannel{Address: app.ReplyEmail}}
	}
	if len(app.Receipt) > 0 {
		req.Attachments = append(req.Attachments, fitconnect.Attachment{Content: app.Receipt, Filename: "antrag-" + app.Reference + ".pdf",
			MimeType: "application/pdf", Purpose: fitconnect.PurposeForm, Description: "Antrag " + app.Reference})
	}
	for _, at := range app.Attachments {
		req.Attachments = append(req.Attachments, fitconnect.Attachment{Content: at.Content, Filename: at.Filename,
			MimeType: at.MediaType, Purpose: fitconnect.PurposeAttachment, Description: at.FieldPath})
	}
	return req, nil
}

// Deliver implements Channel.
func (f *FITConnect) Deliver(ctx context.Context, a *Attempt) (*Result, error) {
	var p *fitconnect.Prepared
	if len(a.Delivery.State) > 0 {
		p = new(fitconnect.Prepared)
		if err := json.Unmarshal(a.Delivery.State, p); err != nil {
			return nil, Permanent(rathaus.Errorf(rathaus.EINTERNAL, "fitconnect: stored state unreadable: %v", err))
		}
	} else {
		req, err := f.Request(ctx, a.App)
		if err != nil {
			return nil, fcPermanent(err)
		}
		if p, err = f.sender.Prepare(ctx, *req); err != nil {
			return nil, fcPermanent(err)
		}
		st, _ := json.Marshal(p)
		if err := a.SaveState(ctx, st); err != nil {
			return nil, err
		}
	}
	sent, err := f.sender.Complete(ctx, p)
	if err != nil {
		if rathaus.ErrorCode(err) == rathaus.ECONFLICT {
			return nil, err
		}
		return nil, fcPermanent(err)
	}
	return &Result{RemoteID: sent.SubmissionID, Message: "submission " + sent.SubmissionID + " case " + sent.CaseID}, nil
}

// Follow implements Follower: the verified event log decides.
func (f *FITConnect) Follow(ctx context.Context, a *Attempt) (*Result, error) {
	var p fitconnect.Prepared
	if err := json.Unmarshal(a.Delivery.State, &p); err != nil || p.SubmissionID == "" {
		return nil, rathaus.Errorf(rathaus.EINTERNAL, "fitconnect: no submission to follow")
	}
	st, err := f.sender.Status(ctx, &p.Sent)
	if err != nil {
		return nil, err
	}
	switch st.State {
	case fitconnect.StateAccepted:
		return &Result{Status: StatusAccepted, Message: "accepted by " + p.DestinationID}, nil
	case fitconnect.StateRejected, fitconnect.StateDeleted:
		var reasons []string
		for _, pr := range st.Problems {
			r := pr.Title
			if pr.Detail != "" {
				r += ": " + pr.Detail
			}
			if r == "" {
				r = pr.Type
			}
			reasons = append(reasons, r)
		}
		if len(reasons) == 0 {
			reasons = []string{st.State}
		}
		return &Result{Status: StatusRejected, Message: "rejected: " + strings.Join(reasons, "; ")}, nil
	}
	return nil, nil
}

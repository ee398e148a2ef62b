// SPDX-License-Identifier: EUPL-1.2

package fitconnect_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"rathaus"
	"rathaus/fitconnect"
	"rathaus/internal/testenv"
)

func fullMetadata() fitconnect.Metadata {
	req := fitconnect.SendRequest{
		Service:    fitconnect.PublicService{Identifier: "urn:de:fim:leika:leistung:99108008003000", Name: "Wohngeld"},
		Data:       []byte(`{"name":"Erika Mustermann"}`),
		DataSchema: fitconnect.SubmissionSchema{SchemaURI: "https://schema.rathaus.example/wohngeld/1.0.0.json", MimeType: "application/json"},
		Attachments: []fitconnect.Attachment{
			{Content: []byte("%PDF-1.7 antrag"), Filename: "antrag.pdf", MimeType: "application/pdf", Purpose: fitconnect.PurposeForm},
			{Content: []byte("scan"), Filename: "mietvertrag.jpg", MimeType: "image/jpeg", Purpose: fitconnect.PurposeAttachment, Description: "Mietvertrag"},
		},
		AuthenticationInformation: []fitconnect.AuthenticationInformation{{Type: "identificationReport", Version: "1.0.0", Content: "eyJsZXZlbE9mQXNzdXJhbmNlIjoic3Vic3RhbnRpYWwifQ"}},
		PaymentInformation: &fitconnect.PaymentInformation{TransactionURL: "https://payment.example/api/v1/paymenttransaction/1/2/abc-123",
			TransactionID: "abc-123", TransactionReference: "KZ-2026-0001", TransactionTimestamp: "2026-11-28T10:00:00Z",
			PaymentMethod: "CREDITCARD", PaymentMethodDetail: "Visa", Status: "BOOKED", GrossAmount: 12.5},
		ReplyChannel:            &fitconnect.ReplyChannel{EMail: &fitconnect.EMailChannel{Address: "erika@example.org"}},
		AdditionalReferenceInfo: &fitconnect.AdditionalReferenceInfo{SenderReference: "RH-2026-42", ApplicationDate: "2026-11-28"},
	}
	return fitconnect.BuildMetadata(&req, []string{"0b799252-deb9-42b0-98d3-c50d24bbafe0", "25abf553-0e53-43b9-a14a-1581b32a9ee5"})
}

// TestMetadataAgainstFITKOSchema validates what we build against the real
// metadata schema 1.0.0, and checks that our built-in checks reject what the
// schema rejects.
func TestMetadataAgainstFITKOSchema(t *testing.T) {
	path := testenv.SharedData(t, "fitconnect/fitko/metadata.schema-1.0.0.json")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := fitconnect.CompileJSONSchema(fitconnect.MetadataSchema100, doc)
	if err != nil {
		t.Fatal(err)
	}
	minimal := fitconnect.Metadata{ContentStructure: fitconnect.ContentStructure{Attachments: []fitconnect.AttachmentDescription{}}}
	for _, tc := range []struct {
		name string
		m    fitconnect.Metadata
	}{
		{"Full", fullMetadata()},
		{"Minimal", minimal},
		{"DeMail", func() fitconnect.Metadata {
			m := fullMetadata()
			m.ReplyChannel = &fitconnect.ReplyChannel{DeMail: &fitconnect.DeMailChannel{Address: "erika@example.de-mail.de"}}
			return m
		}()},
		{"Elster", func() fitconnect.Metadata {
			m := fullMetadata()
			m.ReplyChannel = &fitconnect.ReplyChannel{Elster: &fitconnect.ElsterChannel{AccountID: "1234567890"}}
			return m
		}()},
	} {
		t.Run("Valid"+tc.name, func(t *testing.T) {
			b, _ := json.Marshal(tc.m)
			if err := fitconnect.ValidateJSON(schema, b); err != nil {
				t.Errorf("FITKO schema: %v\n%s", err, b)
			}
			if err := tc.m.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
	for _, tc := range []struct {
		name, field string
		mod         func(m *fitconnect.Metadata)
	}{
		{"NoAttachmentsArray", "contentStructure.attachments", func(m *fitconnect.Metadata) { m.ContentStructure.Attachments = nil }},
		{"UppercaseHash", "contentStructure.data.hash.content", func(m *fitconnect.Metadata) {
			m.ContentStructure.Data.Hash.Content = strings.ToUpper(m.ContentStructure.Data.Hash.Content)
		}},
		{"ShortHash", "contentStructure.attachments[0].hash.content", func(m *fitconnect.Metadata) { m.ContentStructure.Attachments[0].Hash.Content = "abc" }},
		{"SHA256", "contentStructure.data.hash.type", func(m *fitconnect.Metadata) { m.ContentStructure.Data.Hash.Type = "sha256" }},
		{"BadPurpose", "contentStructure.attachments[1].purpose", func(m *fitconnect.Metadata) { m.ContentStructure.Attachments[1].Purpose = "selfie" }},
		{"BadMime", "contentStructure.attachments[0].mimeType", func(m *fitconnect.Metadata) { m.ContentStructure.Attachments[0].MimeType = "pdf" }},
		{"BadSchemaMime", "submissionSchema.mimeType", func(m *fitconnect.Metadata) { m.ContentStructure.Data.SubmissionSchema.MimeType = "text/csv" }},
		{"BadAttachmentID", "attachmentId", func(m *fitconnect.Metadata) { m.ContentStructure.Attachments[0].AttachmentID = "not-a-uuid" }},
		{"BadServiceURN", "publicServiceType.identifier", func(m *fitconnect.Metadata) { m.PublicServiceType.Identifier = "Wohngeld" }},
		{"TwoReplyChannels", "replyChannel", func(m *fitconnect.Metadata) {
			m.ReplyChannel.DeMail = &fitconnect.DeMailChannel{Address: "x@example.org"}
		}},
		{"BadElster", "replyChannel.elster.accountId", func(m *fitconnect.Metadata) {
			m.ReplyChannel = &fitconnect.ReplyChannel{Elster: &fitconnect.ElsterChannel{AccountID: "12345"}}
		}},
		{"BadPaymentStatus", "paymentInformation.status", func(m *fitconnect.Metadata) { m.PaymentInformation.Status = "PAYED" }},
		{"BadPaymentMethod", "paymentInformation.paymentMethod", func(m *fitconnect.Metadata) { m.PaymentInformation.PaymentMethod = "CASH" }},
		{"BadAuthVersion", "authenticationInformation[0].version", func(m *fitconnect.Metadata) { m.AuthenticationInformation[0].Version = "1.0" }},
		{"BadAuthContent", "authenticationInformation[0].content", func(m *fitconnect.Metadata) { m.AuthenticationInformation[0].Content = "a+b/c=" }},
		{"BadSignatureFormat", "contentStructure.data.signature.signatureFormat", func(m *fitconnect.Metadata) {
			m.ContentStructure.Data.Signature = &fitconnect.Signature{SignatureFormat: "pgp"}
		}},
	} {
		t.Run("Invalid"+tc.name, func(t *testing.T) {
			m := fullMetadata()
			tc.mod(&m)
			b, _ := json.Marshal(m)
			if err := fitconnect.ValidateJSON(schema, b); err == nil {
				t.Errorf("FITKO schema accepts it; the case is not a schema violation")
			}
			wantCode(t, m.Validate(), rathaus.EINVALID, tc.field)
		})
	}
}

func TestMetadataHashes(t *testing.T) {
	m := fullMetadata()
	if got, want := m.ContentStructure.Data.Hash.Content, fitconnect.SHA512Hex([]byte(`{"name":"Erika Mustermann"}`)); got != want {
		t.Errorf("data hash = %s, want %s", got, want)
	}
	// SHA-512 of "abc" (FIPS 180-2 example).
	if got := fitconnect.SHA512Hex([]byte("abc")); got != "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" {
		t.Errorf("SHA512Hex(abc) = %s", got)
	}
	if m.PublicServiceType.Identifier != "urn:de:fim:leika:leistung:99108008003000" || m.Schema != fitconnect.MetadataSchema100 {
		t.Errorf("metadata = %+v", m)
	}
	id, err := fitconnect.LeikaIdentifier("99108008003000")
	if err != nil || id != "urn:de:fim:leika:leistung:99108008003000" {
		t.Errorf("LeikaIdentifier = %q, %v", id, err)
	}
	_, err = fitconnect.LeikaIdentifier("9910800800")
	wantCode(t, err, rathaus.EINVALID, "14 digits")
}

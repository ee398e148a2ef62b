// SPDX-License-Identifier: EUPL-1.2

// Package fitconnect speaks FIT-Connect, the federal transport from online
// services (senders) through a delivery service (Zustelldienst) to the
// specialist applications (subscribers, Fachverfahren). It holds both sides
// of the protocol and nothing else of rathaus:
//
//   - the crypto profile: compact JWE with RSA-OAEP-256 + A256GCM
//     ([EncryptJWE], [DecryptJWE]), JWK checks (RSA ≥ 4096, key_ops, alg,
//     kid, x5c chain to configured trust roots: [CheckKey]) and security event
//     tokens signed with PS512 ([SignSET], [VerifySET]); all JOSE work is done
//     by go-jose v4 with algorithm whitelists;
//   - the metadata record (Metadatensatz) 1.0.0 ([Metadata]) with built-in
//     structural checks ([Metadata.Validate]);
//   - the Submission API as a server ([NewDeliveryService], an http.Handler
//     over a tenant-aware [DeliveryStore]) and as clients ([Sender],
//     [Subscriber]);
//   - signed callbacks (HMAC-SHA512 over "timestamp.body": [SignCallback],
//     [CallbackVerifier]).
//
// Metadata validation: the product does not need the FITKO schema file at
// run time. [Metadata.Validate] checks every constraint of metadata schema
// 1.0.0 that our builder can violate (required fields, enums, hash format,
// UUIDs, URN pattern, exactly one reply channel). The tests validate our
// output against the real schema file from ../shared/data with
// santhosh-tekuri/jsonschema. A deployment that wants the full schema check
// on receipt sets [Subscriber.MetadataSchema] (see [CompileJSONSchema]).
//
// API paths are served under both /v1 and /v2 with the v2 body shapes
// (v1 field names such as serviceType are accepted on input). See
// ../shared/docs/standards/fitconnect.md for the protocol digest.
package fitconnect

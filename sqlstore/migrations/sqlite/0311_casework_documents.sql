-- SPDX-License-Identifier: EUPL-1.2
-- Documents of a case (generated notices), sealed by the vault.

CREATE TABLE casework_documents (
	tenant     TEXT   NOT NULL,
	case_id    TEXT   NOT NULL,
	id         TEXT   NOT NULL,
	filename   TEXT   NOT NULL,
	media_type TEXT   NOT NULL,
	content    BLOB   NOT NULL, -- vault-sealed, aad = "casedoc/" id
	created_at BIGINT NOT NULL,
	PRIMARY KEY (tenant, case_id, id)
);

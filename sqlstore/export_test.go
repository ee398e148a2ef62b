// SPDX-License-Identifier: EUPL-1.2

package sqlstore

// RebindDollar exposes the PostgreSQL placeholder rewrite to tests.
var RebindDollar = rebindDollar

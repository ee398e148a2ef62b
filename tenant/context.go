// SPDX-License-Identifier: EUPL-1.2

package tenant

import "context"

type ctxKey struct{}

// NewContext returns ctx carrying the ARS of the tenant the request is for
// (the citizen's chosen municipality or the staff member's working tenant).
func NewContext(ctx context.Context, ars string) context.Context {
	return context.WithValue(ctx, ctxKey{}, ars)
}

// FromContext returns the ARS carried by ctx, or "".
func FromContext(ctx context.Context) string {
	s, _ := ctx.Value(ctxKey{}).(string)
	return s
}

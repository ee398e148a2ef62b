// SPDX-License-Identifier: EUPL-1.2

package main

import (
	"testing"

	"rathaus/fim"
	"rathaus/internal/testenv"
)

func TestValidAnswers(t *testing.T) {
	dir := testenv.SharedData(t, "fim-schemas/xdf2/S00000246V1.1")
	m, err := fim.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, errs := validAnswers(m)
	if len(errs) > 0 {
		t.Fatalf("generated answers invalid: %v", errs)
	}
	if len(a) == 0 {
		t.Fatal("no answers")
	}
}

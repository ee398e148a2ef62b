// SPDX-License-Identifier: EUPL-1.2

package form_test

import (
	"testing"

	"rathaus/fim"
	"rathaus/form"
	"rathaus/internal/testenv"
)

// BenchmarkValidateRealForm validates the sample answers of the mid-size
// form S00000246 (the intake benchmark's form): every required field
// filled, one choice group left open (a few errors), so the whole form
// is walked.
func BenchmarkValidateRealForm(b *testing.B) {
	m, err := fim.LoadFile(testenv.SharedData(b, "fim-schemas/xdf2/S00000246V1.1/S00000246v1.1_xdf2.xml"))
	if err != nil {
		b.Fatal(err)
	}
	a := form.Answers(sampleAnswers(m, m.Root, false))
	b.ReportMetric(float64(len(m.Validate(a, form.ValidateOptions{}))), "errors")
	b.ReportAllocs()
	for b.Loop() {
		m.Validate(a, form.ValidateOptions{})
	}
}

// BenchmarkValidateRealForms validates the complete generated answers
// (every element filled) of each real schema of TestValidateSameVerdicts.
func BenchmarkValidateRealForms(b *testing.B) {
	for _, rel := range verdictSchemas {
		m, err := fim.LoadFile(testenv.SharedData(b, rel))
		if err != nil {
			b.Fatal(err)
		}
		a := form.Answers(sampleAnswers(m, m.Root, true))
		b.Run(m.ID, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Validate(a, form.ValidateOptions{})
			}
			b.ReportMetric(float64(len(m.Validate(a, form.ValidateOptions{}))), "errors")
		})
	}
}

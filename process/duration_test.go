// SPDX-License-Identifier: EUPL-1.2

package process

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	base := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"PT5M", base.Add(5 * time.Minute)},
		{"P14D", base.AddDate(0, 0, 14)},
		{"P7D", base.AddDate(0, 0, 7)},
		{"P2W", base.AddDate(0, 0, 14)},
		{"P1Y2M3DT4H5M6S", base.AddDate(1, 2, 3).Add(4*time.Hour + 5*time.Minute + 6*time.Second)},
		{"PT1.5S", base.Add(1500 * time.Millisecond)},
		{"PT36H", base.Add(36 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := ParseDuration(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.AddTo(base); !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "P", "5M", "PT", "P5", "PT5X", "P1.5D", "PTT1M", "P5H", "P99999999D"} {
		t.Run("bad/"+bad, func(t *testing.T) {
			if _, err := ParseDuration(bad); err == nil {
				t.Errorf("ParseDuration(%q) succeeded", bad)
			}
		})
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"P14D", "PT5M", "P1Y2M3DT4H5M6.5S", "P", "PT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err == nil {
			_ = d.AddTo(time.Unix(0, 0))
		}
	})
}

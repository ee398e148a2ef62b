// SPDX-License-Identifier: EUPL-1.2

// Package importer reads the public catalogues rathaus starts from into
// domain values, without touching a database:
//
//   - ReadMunicipalities: the Destatis GV-ISys extract → the tenant tree;
//   - ReadLeiKa and ReadOZG: the LeiKa-Leistungen with their OZG mapping →
//     national services at tenant.Bund, plus the OZG Lebenslagen;
//   - ReadDLDB: a municipal Dienstleistungsdatenbank export (München,
//     Berlin) → services, offices and offers of one tenant.
//
// Every reader is all-or-nothing: bad input returns an EINVALID error whose
// message names the file, the line, the field and the reason, and no data.
// Oddities that do not make the data wrong come back as Warnings. The caller
// stores the result in one transaction (see cmd/rathaus import).
package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"rathaus"
)

// Warning is a non-fatal finding about one place in an input file.
type Warning struct {
	File   string // name of the input as given by the caller
	Line   int    // 1-based line; 0 when it concerns the whole file
	Field  string // column or JSON field; "" when it concerns the record
	Reason string
}

// String formats the warning as "file:line: field: reason".
func (w Warning) String() string {
	var b strings.Builder
	b.WriteString(w.File)
	if w.Line > 0 {
		fmt.Fprintf(&b, ":%d", w.Line)
	}
	if w.Field != "" {
		b.WriteString(": ")
		b.WriteString(w.Field)
	}
	b.WriteString(": ")
	b.WriteString(w.Reason)
	return b.String()
}

// inputError returns the EINVALID error for bad input at file:line, field.
func inputError(file string, line int, field, format string, args ...any) error {
	w := Warning{File: file, Line: line, Field: field, Reason: fmt.Sprintf(format, args...)}
	return rathaus.Errorf(rathaus.EINVALID, "%s", w.String())
}

// readAllUTF8 reads r completely, strips a UTF-8 byte order mark and checks
// that the content is valid UTF-8, naming the line of the first bad byte
// (typically a Latin-1 export).
func readAllUTF8(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINVALID, err, "%s: cannot read: %v", name, err)
	}
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	if !utf8.Valid(b) {
		off := 0
		for off < len(b) {
			r, size := utf8.DecodeRune(b[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		line := 1 + bytes.Count(b[:off], []byte("\n"))
		return nil, inputError(name, line, "", "not valid UTF-8 (byte 0x%02x at offset %d; the file must be UTF-8, e.g. convert a Latin-1 export with iconv -f latin1 -t utf-8)", b[off], off)
	}
	return b, nil
}

// csvTable is a parsed CSV file with a header line.
type csvTable struct {
	name string
	cols map[string]int
	rows []csvRow
}

// csvRow is one data record and the line it starts on.
type csvRow struct {
	line   int
	fields []string
}

// readCSV parses a comma-separated UTF-8 file whose first line names the
// columns. The header must contain every column in want and nothing else;
// every record must have as many fields as the header.
func readCSV(r io.Reader, name string, want []string) (*csvTable, error) {
	b, err := readAllUTF8(r, name)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(b))
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, inputError(name, 1, "header", "empty file, expected a header line")
		}
		return nil, csvError(name, err)
	}
	t := &csvTable{name: name, cols: map[string]int{}}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := t.cols[h]; dup {
			return nil, inputError(name, 1, "header", "column %q appears twice", h)
		}
		t.cols[h] = i
	}
	wanted := map[string]bool{}
	for _, c := range want {
		wanted[c] = true
		if _, ok := t.cols[c]; !ok {
			return nil, inputError(name, 1, "header", "missing column %q (want %s)", c, strings.Join(want, ","))
		}
	}
	for _, h := range header {
		if !wanted[strings.TrimSpace(h)] {
			return nil, inputError(name, 1, "header", "unknown column %q (want %s)", h, strings.Join(want, ","))
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		t.rows = append(t.rows, csvRow{line: line, fields: rec})
	}
	return t, nil
}

// get returns the trimmed value of column col in row.
func (t *csvTable) get(row csvRow, col string) string {
	return strings.TrimSpace(row.fields[t.cols[col]])
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		reason, field := pe.Err.Error(), fmt.Sprintf("column %d", pe.Column)
		switch {
		case errors.Is(pe.Err, csv.ErrFieldCount):
			reason, field = "wrong number of columns (truncated or shifted row?)", "row"
		case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
			reason = "broken quoting: " + pe.Err.Error()
		}
		line := pe.Line
		if line == 0 {
			line = pe.StartLine
		}
		return inputError(name, line, field, "%s", reason)
	}
	return rathaus.Wrap(rathaus.EINVALID, err, "%s: %v", name, err)
}

// digits reports whether s is exactly n ASCII digits.
func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits(s string) bool { return s != "" && digits(s, len(s)) }

// germanInt parses an integer written with blanks (or dots) as thousands
// separators: " 90 164" → 90164. Empty means 0.
func germanInt(s string) (int, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00a0' || r == '.' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return 0, nil
	}
	return strconv.Atoi(s)
}

// germanFloat parses a decimal number written with a decimal comma or point
// and optional blank thousands separators: "9,43751", " 53.02". Empty means 0.
func germanFloat(s string) (float64, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00a0' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return 0, nil
	}
	s = strings.ReplaceAll(s, ",", ".")
	return strconv.ParseFloat(s, 64)
}

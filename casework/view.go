// SPDX-License-Identifier: EUPL-1.2

package casework

import "rathaus/process"

// CaseView is everything the case page shows.
type CaseView struct {
	Case        *Case
	History     []Entry
	Tasks       []*process.Task
	Documents   []DocumentInfo
	Attachments []DocumentInfo
	// Answers are the opened answers of the application (nil when the
	// application cannot be read).
	Answers map[string]any
	// Form describes the answers as the form showed them: labels in form
	// order (nil: show the raw keys).
	Form []AnswerLine
}

// DocumentInfo names a document or attachment of a case.
type DocumentInfo struct {
	ID, Filename, MediaType string
	Size                    int64
}

// AnswerLine is one answer as the form showed it.
type AnswerLine struct {
	Label string
	Value string
	Depth int
}

// File is a decrypted document or attachment.
type File struct {
	Filename, MediaType string
	Data                []byte
}

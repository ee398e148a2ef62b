// SPDX-License-Identifier: EUPL-1.2

package delivery

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"rathaus"
	"rathaus/form"
	"rathaus/tenant"
)

// ExportConfig configures an export route.
type ExportConfig struct {
	// Dir is the directory the files are written to (one subdirectory per
	// tenant).
	Dir string `json:"dir"`
	// Formats are "json" and/or "xml" (default both).
	Formats []string `json:"formats,omitempty"`
}

// Sink stores exported files. DirSink writes into a directory; an
// S3-like store plugs in through Options.Channels with NewExportTo.
type Sink interface {
	// Put stores data under name, replacing an earlier version whole.
	Put(ctx context.Context, name string, data []byte) error
}

// DirSink writes files below a directory, atomically (temporary file,
// fsync, rename), mode 0600.
type DirSink string

// Put implements Sink.
func (d DirSink) Put(_ context.Context, name string, data []byte) error {
	p := filepath.Join(string(d), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "export: cannot create directory")
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".export-*")
	if err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "export: cannot write")
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "export: cannot write")
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "export: cannot write")
	}
	if err := f.Close(); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "export: cannot write")
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return rathaus.Wrap(rathaus.EUNAVAILABLE, err, "export: cannot write")
	}
	return nil
}

// Export is the export channel.
type Export struct {
	sink    Sink
	formats []string
}

// NewExport checks cfg and returns an export into cfg.Dir.
func NewExport(cfg ExportConfig) (*Export, error) {
	if cfg.Dir == "" || !filepath.IsAbs(cfg.Dir) {
		return nil, rathaus.Errorf(rathaus.EINVALID, "export: field dir: %q is no absolute path", cfg.Dir)
	}
	return NewExportTo(DirSink(cfg.Dir), cfg.Formats)
}

// NewExportTo returns an export into sink.
func NewExportTo(sink Sink, formats []string) (*Export, error) {
	if len(formats) == 0 {
		formats = []string{"json", "xml"}
	}
	for i, f := range formats {
		if f != "json" && f != "xml" {
			return nil, rathaus.Errorf(rathaus.EINVALID, "export: field formats[%d]: %q is neither json nor xml", i, f)
		}
	}
	return &Export{sink: sink, formats: formats}, nil
}

// ExportName is the file name (without extension) of an application's
// export: "<tenant>/<application id>". It is the same on every attempt, so
// a repeated attempt replaces the file instead of adding one.
func ExportName(app *Application) string { return app.Tenant + "/" + app.ID }

// Deliver implements Channel.
func (e *Export) Deliver(ctx context.Context, a *Attempt) (*Result, error) {
	if !tenant.ValidARS(a.App.Tenant) {
		return nil, Permanent(rathaus.Errorf(rathaus.EINVALID, "export: bad tenant %q", a.App.Tenant))
	}
	var names []string
	for _, f := range e.formats {
		var data []byte
		var err error
		switch f {
		case "json":
			data, err = ExportJSON(a.App)
		case "xml":
			data, err = ExportXML(a.App)
		}
		if err != nil {
			return nil, Permanent(err)
		}
		name := ExportName(a.App) + "." + f
		if err := e.sink.Put(ctx, name, data); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return &Result{Message: strings.Join(names, ", ")}, nil
}

// ExportJSON is the JSON export: the application with answers, metadata
// and attachments (base64 content).
func ExportJSON(app *Application) ([]byte, error) {
	b, err := json.MarshalIndent(app, "", "  ")
	if err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, err, "export json")
	}
	return b, nil
}

// XMLNamespace is the namespace of the XML export's envelope.
const XMLNamespace = "urn:rathaus:delivery:1"

// ExportXML is the XML export. The envelope <antrag> carries the metadata
// as attributes, then <daten>: the answers in the structure of the FIM
// schema, one element per group and field named by its id (as in the
// form model, in model order; repeated items repeat their element; file
// values and other objects become child elements per key), then
// <anlagen> with one <anlage> per file (base64). Without a form model
// the answers are written in key order. Ids that are no XML names are
// prefixed with "_".
func ExportXML(app *Application) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	root := xml.StartElement{Name: xml.Name{Local: "antrag"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "xmlns"}, Value: XMLNamespace},
		{Name: xml.Name{Local: "id"}, Value: app.ID},
		{Name: xml.Name{Local: "referenz"}, Value: app.Reference},
		{Name: xml.Name{Local: "ars"}, Value: app.Tenant},
		{Name: xml.Name{Local: "leistung"}, Value: app.ServiceKey},
		{Name: xml.Name{Local: "formular"}, Value: app.FormID},
		{Name: xml.Name{Local: "formularVersion"}, Value: app.FormVersion},
		{Name: xml.Name{Local: "eingang"}, Value: app.SubmittedAt.UTC().Format(time.RFC3339)},
		{Name: xml.Name{Local: "vertrauensniveau"}, Value: fmt.Sprint(app.LoA)},
	}}
	x := &xmlw{enc: enc}
	x.start(root)
	dataName := "daten"
	x.start(xml.StartElement{Name: xml.Name{Local: dataName}})
	if app.Form != nil {
		x.items(app.Form.Root, app.Answers)
	} else {
		x.value(nil, app.Answers, true)
	}
	x.end(dataName)
	x.start(xml.StartElement{Name: xml.Name{Local: "anlagen"}})
	for _, at := range app.Attachments {
		x.start(xml.StartElement{Name: xml.Name{Local: "anlage"}, Attr: []xml.Attr{
			{Name: xml.Name{Local: "id"}, Value: at.ID}, {Name: xml.Name{Local: "feld"}, Value: at.FieldPath},
			{Name: xml.Name{Local: "dateiname"}, Value: at.Filename}, {Name: xml.Name{Local: "medientyp"}, Value: at.MediaType},
			{Name: xml.Name{Local: "groesse"}, Value: fmt.Sprint(at.Size)}, {Name: xml.Name{Local: "sha256"}, Value: at.SHA256},
		}})
		x.text(base64.StdEncoding.EncodeToString(at.Content))
		x.end("anlage")
	}
	x.end("anlagen")
	x.end("antrag")
	if x.err == nil {
		x.err = enc.Flush()
	}
	if x.err != nil {
		return nil, rathaus.Wrap(rathaus.EINTERNAL, x.err, "export xml")
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

type xmlw struct {
	enc *xml.Encoder
	err error
}

func (x *xmlw) start(s xml.StartElement) {
	if x.err == nil {
		x.err = x.enc.EncodeToken(s)
	}
}

func (x *xmlw) end(name string) {
	if x.err == nil {
		x.err = x.enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: name}})
	}
}

func (x *xmlw) text(s string) {
	if x.err == nil {
		x.err = x.enc.EncodeToken(xml.CharData(s))
	}
}

// XMLName returns id as an XML element name: ASCII letters, digits, "_",
// "-", "." and the Latin-1 letters (umlauts, ß) are kept; anything else
// becomes "_", and a name that does not start with a letter or "_" (or
// starts with "xml") is prefixed with "_".
func XMLName(id string) string {
	var b strings.Builder
	for _, r := range id {
		if nameRune(r) || r == '-' || r == '.' || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" || !nameRune([]rune(out)[0]) || strings.HasPrefix(strings.ToLower(out), "xml") {
		out = "_" + out
	}
	return out
}

// nameRune: a letter that may start an XML name (ASCII, Latin-1) or "_".
func nameRune(r rune) bool {
	return r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') ||
		(r >= 0xC0 && r <= 0xD6) || (r >= 0xD8 && r <= 0xF6) || (r >= 0xF8 && r <= 0xFF)
}

// items writes the answers of a list of model items in model order.
func (x *xmlw) items(items []form.Item, answers map[string]any) {
	for i := range items {
		it := &items[i]
		v, ok := answers[it.ID]
		if !ok || v == nil {
			continue
		}
		vals := []any{v}
		if it.Repeatable() {
			if arr, isArr := v.([]any); isArr {
				vals = arr
			}
		}
		for _, one := range vals {
			name := XMLName(it.ID)
			x.start(xml.StartElement{Name: xml.Name{Local: name}})
			if it.Kind == form.KindGroup {
				if m, isMap := one.(map[string]any); isMap {
					x.items(it.Items, m)
				}
			} else {
				x.value(it, one, false)
			}
			x.end(name)
		}
	}
}

// value writes a field value (or, without a model, a whole subtree).
func (x *xmlw) value(_ *form.Item, v any, top bool) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			vals := []any{t[k]}
			if arr, ok := t[k].([]any); ok {
				vals = arr
			}
			for _, one := range vals {
				name := XMLName(k)
				x.start(xml.StartElement{Name: xml.Name{Local: name}})
				x.value(nil, one, false)
				x.end(name)
			}
		}
	case []any:
		for _, one := range t {
			x.start(xml.StartElement{Name: xml.Name{Local: "wert"}})
			x.value(nil, one, false)
			x.end("wert")
		}
	case nil:
	case string:
		x.text(t)
	case bool:
		x.text(map[bool]string{true: "true", false: "false"}[t])
	default:
		x.text(fmt.Sprint(t))
	}
	_ = top
}

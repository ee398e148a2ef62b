// SPDX-License-Identifier: EUPL-1.2

package web

import (
	"bytes"
	"html"
	"strconv"
	"sync"
	"sync/atomic"

	"rathaus/form"
)

// The form controls of a step are written by hand rather than through
// html/template: a step has hundreds of controls and html/template's
// reflection and escaper calls per action made a page cost a millisecond.
// Every dynamic text goes through html.EscapeString (text and quoted
// attribute values alike); the markup is the one the accessibility tests
// check.

type hw struct{ bytes.Buffer }

var hwPool = sync.Pool{New: func() any { return new(hw) }}

func (w *hw) s(parts ...string) {
	for _, p := range parts {
		w.WriteString(p)
	}
}

// htmlSpecial marks the bytes e escapes.
var htmlSpecial = [256]bool{'<': true, '>': true, '&': true, '\'': true, '"': true}

// e writes escaped text: the same replacements as html.EscapeString,
// written piecewise into the buffer without an intermediate string.
func (w *hw) e(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		if !htmlSpecial[s[i]] {
			continue
		}
		var esc string
		switch s[i] {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&#39;"
		case '"':
			esc = "&#34;"
		default:
			continue
		}
		w.WriteString(s[last:i])
		w.WriteString(esc)
		last = i + 1
	}
	w.WriteString(s[last:])
}

// getHW returns an empty writer from the pool; putHW gives it back.
func getHW() *hw {
	w := hwPool.Get().(*hw)
	w.Reset()
	return w
}

func putHW(w *hw) {
	if w.Cap() <= 1<<20 {
		hwPool.Put(w)
	}
}

// nodes writes the HTML of a step's controls.
func (w *hw) nodes(nodes []nodeView) {
	for i := range nodes {
		w.node(&nodes[i])
	}
}

func (w *hw) node(n *nodeView) {
	switch {
	case n.Field != nil:
		w.field(n.Field)
	case n.Repeated != nil:
		w.repeated(n.Repeated)
	case n.Group != nil:
		w.group(n.Group)
	}
}

// attrx writes name="prefix val suffix" with val escaped (prefix and
// suffix are constants without characters to escape).
func (w *hw) attrx(name, prefix, val, suffix string) {
	w.s(" ", name, `="`, prefix)
	w.e(val)
	w.s(suffix, `"`)
}

// ariaDescribedBy writes aria-describedby with id's -help, -hint and -error
// elements as far as present, in that order.
func (w *hw) ariaDescribedBy(id string, help, hint, err bool) {
	if !help && !hint && !err {
		return
	}
	w.s(` aria-describedby="`)
	sep := ""
	for _, x := range [3]struct {
		on  bool
		suf string
	}{{help, "-help"}, {hint, "-hint"}, {err, "-error"}} {
		if x.on {
			w.s(sep)
			w.e(id)
			w.s(x.suf)
			sep = " "
		}
	}
	w.s(`"`)
}

func (w *hw) attr(name, val string) {
	w.s(" ", name, `="`)
	w.e(val)
	w.WriteByte('"')
}

// endClass ends a class attribute, with has-error for an element in error.
func (w *hw) endClass(hasError bool) {
	if hasError {
		w.s(" has-error")
	}
	w.s(`"`)
}

// ids writes the id (unless ""), data-id and hidden attributes of a
// group's or control's element.
func (w *hw) ids(id, bareID string, hidden bool) {
	if id != "" {
		w.attr("id", id)
	}
	w.attr("data-id", bareID)
	if hidden {
		w.s(" hidden")
	}
}

func (w *hw) group(g *groupView) {
	w.s("\n<fieldset class=\"group")
	if g.Top {
		w.s(" top")
	}
	w.endClass(g.Error != "")
	w.ids(g.ID, g.BareID, g.Hidden)
	w.ariaDescribedBy(g.ID, false, g.Help != "", g.Error != "")
	w.s(">\n<legend>")
	w.e(g.Legend)
	w.s("</legend>\n")
	if g.Help != "" {
		w.s(`<p class="hint"`)
		w.attrx("id", "", g.ID, "-hint")
		w.s(">")
		w.e(g.Help)
		w.s("</p>\n")
	}
	if g.Error != "" {
		w.errorMessage(g.ID, g.Error, g.X)
	}
	if g.Repeatable {
		w.s(`<input type="hidden"`)
		w.attrx("name", "count:", g.Path, "")
		w.attr("value", strconv.Itoa(g.Count))
		w.s(">\n")
	}
	for i := range g.Instances {
		in := &g.Instances[i]
		w.s(`<div class="instance`)
		if g.Repeatable {
			w.s(" repeat")
		}
		w.s(`"`)
		if in.Rules != "" {
			w.attr("data-rules", in.Rules)
		}
		w.s(">\n")
		if g.Repeatable {
			w.s(`<p class="instance-title">`)
			w.e(g.Legend)
			w.s(" ", strconv.Itoa(in.N), "</p>\n")
		}
		for j := range in.Nodes {
			w.node(&in.Nodes[j])
		}
		if in.CanRemove {
			w.s(`<button type="submit" name="action"`)
			w.attrx("value", "remove:", in.Path, "")
			w.s(` class="secondary">`)
			w.e(g.X.Remove)
			w.s(`<span class="visually-hidden">: `)
			w.e(g.Legend)
			w.s(" ", strconv.Itoa(in.N), "</span></button>\n")
		}
		w.s("</div>\n")
	}
	if g.CanAdd {
		w.addButton(g.Path, g.Legend, g.X)
	}
	w.s("</fieldset>\n")
}

func (w *hw) addButton(path, what string, x *nodeTexts) {
	w.s(`<button type="submit" name="action"`)
	w.attrx("value", "add:", path, "")
	w.s(` class="secondary">`)
	w.e(x.Add)
	w.s(`<span class="visually-hidden">: `)
	w.e(what)
	w.s("</span></button>\n")
}

func (w *hw) errorMessage(id, msg string, x *nodeTexts) {
	w.s(`<p class="error-message"`)
	w.attrx("id", "", id, "-error")
	w.s(`><span class="visually-hidden">`)
	w.e(x.Error)
	w.s(":</span> ")
	w.e(msg)
	w.s("</p>\n")
}

func (w *hw) repeated(r *repeatedView) {
	w.s("\n<fieldset class=\"field repeated\"")
	w.ids(r.ID, r.BareID, r.Hidden)
	w.s(">\n<legend>")
	w.e(r.Label)
	w.s("</legend>\n")
	if r.Help != "" {
		w.s(`<p class="hint">`)
		w.e(r.Help)
		w.s("</p>\n")
	}
	w.s(`<input type="hidden"`)
	w.attrx("name", "count:", r.Path, "")
	w.attr("value", strconv.Itoa(r.Count))
	w.s(">\n")
	for _, f := range r.Items {
		w.field(f)
	}
	if r.CanAdd {
		w.addButton(r.Path, r.Label, r.X)
	}
	w.s("</fieldset>\n")
}

func (w *hw) describedBy(f *fieldView) {
	w.ariaDescribedBy(f.ID, f.Help != "", f.Hint != "", f.Error != "")
	if f.Error != "" {
		w.s(` aria-invalid="true"`)
	}
}

func (w *hw) fieldTexts(f *fieldView) {
	if f.Help != "" {
		w.s(`<p class="hint"`)
		w.attrx("id", "", f.ID, "-help")
		w.s(">")
		w.e(f.Help)
		w.s("</p>\n")
	}
	if f.Hint != "" {
		w.s(`<p class="hint"`)
		w.attrx("id", "", f.ID, "-hint")
		w.s(">")
		w.e(f.Hint)
		w.s("</p>\n")
	}
	if f.Error != "" {
		w.errorMessage(f.ID, f.Error, f.X)
	}
}

func (w *hw) labelText(f *fieldView) {
	w.e(f.Label)
	if !f.Required {
		w.s(` <span class="optional">(`)
		w.e(f.X.Optional)
		w.s(")</span>")
	}
}

func (w *hw) prefilled(f *fieldView) {
	if f.Prefilled {
		w.s(`<p class="prefilled">`)
		w.e(f.X.Prefilled)
		w.s("</p>\n")
	}
}

// input writes <input type=… id name value …>.
func (w *hw) input(f *fieldView, typ, extra string, value bool) {
	w.s(`<input type="`, typ, `"`)
	w.attr("id", f.ID)
	w.attr("name", f.Path)
	if value {
		w.attr("value", f.Value)
	}
	w.s(extra)
	w.describedBy(f)
	w.s(">\n")
}

func (w *hw) field(f *fieldView) {
	switch f.Control {
	case "label":
		w.s(`<p class="label-text"`)
		w.ids("", f.BareID, f.Hidden)
		w.s(">")
		w.e(f.Text)
		w.s("</p>\n")
		return
	case "radio", "bool":
		w.s("\n<fieldset class=\"field radios")
		w.endClass(f.Error != "")
		w.ids(f.ID, f.BareID, f.Hidden)
		w.ariaDescribedBy(f.ID, f.Help != "", f.Hint != "", f.Error != "")
		w.s(">\n<legend>")
		w.labelText(f)
		w.s("</legend>\n")
		w.fieldTexts(f)
		for _, o := range f.Options {
			w.s(`<div class="radio"><input type="radio"`)
			w.attr("id", o.ID)
			w.attr("name", f.Path)
			w.attr("value", o.Code)
			if o.Selected {
				w.s(" checked")
			}
			w.s(`> <label`)
			w.attr("for", o.ID)
			w.s(">")
			w.e(o.Name)
			w.s("</label></div>\n")
		}
		w.prefilled(f)
		w.s("</fieldset>\n")
		return
	}
	w.s("\n<div class=\"field")
	w.endClass(f.Error != "")
	w.ids("", f.BareID, f.Hidden)
	w.s(">\n")
	if f.Control == "file" && f.File != nil {
		w.s(`<p class="label"`)
		w.attr("id", f.ID)
		w.s(">")
		w.labelText(f)
		w.s("</p>\n")
		w.fieldTexts(f)
		w.s(`<p class="uploaded">`)
		w.e(f.X.Uploaded)
		w.s(": <strong>")
		w.e(f.File.Name)
		w.s("</strong> (")
		w.e(f.File.MediaType)
		w.s(", ", strconv.FormatInt(f.File.Size, 10), " Bytes)\n")
		w.s(`<button type="submit" name="action"`)
		w.attrx("value", "delfile:", f.Path, "")
		w.s(` class="secondary">`)
		w.e(f.X.Remove)
		w.s(`<span class="visually-hidden">: `)
		w.e(f.File.Name)
		w.s("</span></button></p>\n")
	} else {
		w.s("<label")
		w.attr("for", f.ID)
		w.s(">")
		w.labelText(f)
		w.s("</label>\n")
		w.fieldTexts(f)
		maxlen := ""
		if f.MaxLength > 0 {
			maxlen = ` maxlength="` + strconv.Itoa(f.MaxLength) + `"`
		}
		switch f.Control {
		case "select":
			if f.Filterable {
				w.s(`<div class="filter"><label class="small"`)
				w.attrx("for", "", f.ID, "-filter")
				w.s(">")
				w.e(f.X.FilterLabel)
				w.s("</label>\n<input type=\"search\"")
				w.attrx("id", "", f.ID, "-filter")
				w.attrx("name", "filter:", f.Path, "")
				w.attr("value", f.Filter)
				w.attr("data-filter-for", f.ID)
				w.s(` autocomplete="off">` + "\n" + `<button type="submit" name="action"`)
				w.attrx("value", "filter:", f.Path, "")
				w.s(` class="secondary">`)
				w.e(f.X.FilterButton)
				w.s("</button></div>\n")
			}
			w.s("<select")
			w.attr("id", f.ID)
			w.attr("name", f.Path)
			w.describedBy(f)
			w.s(`><option value="">`)
			w.e(f.X.Choose)
			w.s("</option>\n")
			if f.list != nil {
				f.list.write(w, f.Value)
			}
			for _, o := range f.Options {
				w.s("<option")
				w.attr("value", o.Code)
				if o.Selected {
					w.s(" selected")
				}
				w.s(">")
				w.e(o.Name)
				w.s("</option>\n")
			}
			w.s("</select>\n")
		case "textarea":
			w.s("<textarea")
			w.attr("id", f.ID)
			w.attr("name", f.Path)
			w.s(` rows="6"`, maxlen)
			w.describedBy(f)
			w.s(">")
			w.e(f.Value)
			w.s("</textarea>\n")
		case "file":
			accept := ""
			if f.Accept != "" {
				accept = ` accept="` + html.EscapeString(f.Accept) + `"`
			}
			w.input(f, "file", accept, false)
		case "locked":
			w.input(f, "text", " readonly", true)
		case "date":
			w.input(f, "date", ` class="short"`, true)
		case "time":
			w.input(f, "time", ` class="short"`, true)
		case "datetime":
			w.input(f, "datetime-local", "", true)
		case "number":
			w.s(`<input type="text" inputmode="decimal"`)
			w.attr("id", f.ID)
			w.attr("name", f.Path)
			w.attr("value", f.Value)
			w.s(` class="short"`)
			w.describedBy(f)
			w.s(">\n")
		default:
			w.input(f, "text", maxlen, true)
		}
	}
	w.prefilled(f)
	w.s("</div>\n")
}

// optionList is the pre-rendered <option> markup of a select's choices
// (code lists have hundreds of rows): built once per list of values, with
// the offsets where " selected" goes for each code.
type optionList struct {
	html []byte
	at   map[string][]int // code → offsets just after value="…"
	n    int              // number of values (guards against a reused key)
}

// optionLists caches optionList by the first element of the values slice;
// the slices are the model's (inline values) or options' cache (code
// lists), so the key keeps them alive and is never reused for another
// list. Bounded: cleared when it grows past optionListMax entries.
var (
	optionLists     sync.Map // *form.Value → *optionList
	optionListCount atomic.Int64
)

const optionListMax = 2000

// cachedOptions returns the option markup of vals (non-empty).
func cachedOptions(vals []form.Value) *optionList {
	key := &vals[0]
	if v, ok := optionLists.Load(key); ok {
		if l := v.(*optionList); l.n == len(vals) {
			return l
		}
	}
	w := getHW()
	l := &optionList{at: make(map[string][]int, len(vals)), n: len(vals)}
	for _, o := range vals {
		w.s("<option")
		w.attr("value", o.Code)
		l.at[o.Code] = append(l.at[o.Code], w.Len())
		w.s(">")
		name := o.Name
		if name == "" {
			name = o.Code
		}
		w.e(name)
		w.s("</option>\n")
	}
	l.html = bytes.Clone(w.Bytes())
	putHW(w)
	if optionListCount.Add(1) > optionListMax {
		optionLists.Clear()
		optionListCount.Store(1)
	}
	optionLists.Store(key, l)
	return l
}

// write writes the options with those whose code is value selected.
func (l *optionList) write(w *hw, value string) {
	last := 0
	for _, off := range l.at[value] {
		w.Write(l.html[last:off])
		w.s(" selected")
		last = off
	}
	w.Write(l.html[last:])
}

// SPDX-License-Identifier: EUPL-1.2
// Online applications: progressive enhancement of the form steps. The pages
// work without JavaScript (the server evaluates the conditions, filters long
// lists and adds/removes repeated groups with submit buttons). With
// JavaScript, this script mirrors the SAME conditions, serialised by the
// server in data-rules attributes (show_if / required_if with field, op,
// values, target), filters long selects as you type and moves the focus
// to the error summary.
(function () {
  'use strict';

  function valueOf(scope, id) {
    var el = scope.querySelector('[data-id="' + id + '"]');
    if (!el) { return ''; }
    var checked = el.querySelector('input[type=radio]:checked');
    if (checked) { return checked.value; }
    if (el.querySelector('input[type=radio]')) { return ''; }
    var input = el.querySelector('select, textarea, input:not([type=hidden]):not([type=search])');
    if (!input) { return el.querySelector('.uploaded') ? 'file' : ''; }
    return (input.value || '').trim();
  }

  function holds(scope, c) {
    var v = valueOf(scope, c.Field);
    if (c.Op === 'filled') { return v !== ''; }
    if (c.Op === 'empty') { return v === ''; }
    return v !== '' && (c.Values || []).indexOf(v) >= 0;
  }

  // The condition applies to every element with the target id in scope.
  function targetsOf(scope, id) {
    return scope.querySelectorAll('[data-id="' + id + '"]');
  }

  function apply() {
    var scopes = document.querySelectorAll('[data-rules]');
    for (var i = 0; i < scopes.length; i++) {
      var scope = scopes[i], rules;
      try { rules = JSON.parse(scope.getAttribute('data-rules')); } catch (e) { continue; }
      for (var j = 0; j < rules.length; j++) {
        var c = rules[j], ts = targetsOf(scope, c.Target);
        // Triggers on other steps: the server's decision stands.
        if (!ts.length || !scope.querySelector('[data-id="' + c.Field + '"]')) { continue; }
        var on = holds(scope, c);
        for (var k = 0; k < ts.length; k++) {
          if (c.Kind === 'show_if') {
            ts[k].hidden = !on;
          } else if (c.Kind === 'required_if') {
            var opt = ts[k].querySelector('.optional');
            if (opt) { opt.hidden = on; }
          }
        }
      }
    }
  }

  function filterSelect(input) {
    var sel = document.getElementById(input.getAttribute('data-filter-for'));
    if (!sel) { return; }
    var q = input.value.trim().toLowerCase();
    for (var i = 0; i < sel.options.length; i++) {
      var o = sel.options[i];
      if (o.value === '') { continue; }
      o.hidden = q !== '' && !o.selected && o.text.toLowerCase().indexOf(q) < 0 && o.value.toLowerCase().indexOf(q) !== 0;
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    var form = document.querySelector('form.antrag');
    if (form) {
      // Tell the server the conditions were shown live.
      var js = form.querySelector('input[data-js]');
      if (js) { js.value = '1'; }
      form.addEventListener('change', apply);
      form.addEventListener('input', function (ev) {
        if (ev.target.hasAttribute && ev.target.hasAttribute('data-filter-for')) { filterSelect(ev.target); return; }
        apply();
      });
      var filters = form.querySelectorAll('[data-filter-for]');
      for (var i = 0; i < filters.length; i++) {
        filters[i].addEventListener('keydown', function (ev) {
          if (ev.key === 'Enter') { ev.preventDefault(); }
        });
        filterSelect(filters[i]);
      }
      apply();
    }
    var summary = document.getElementById('fehler');
    if (summary) { summary.focus(); }
  });
}());

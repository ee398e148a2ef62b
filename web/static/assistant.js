// SPDX-License-Identifier: EUPL-1.2
// Progressive enhancement of the assistant page (/assistent): questions and
// choice buttons are sent to POST /api/assistant and the replies appended
// to the conversation (an aria-live region) without reloading the page.
// Without JavaScript the same forms post to /assistent and the server
// renders the whole conversation.
(function () {
  "use strict";
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var choices = document.getElementById("chat-choices");
  var input = document.getElementById("chat-message");
  var status = document.getElementById("chat-status");
  if (!log || !form || !choices || !input || !window.fetch) {
    return;
  }
  var busy = false;
  var count = log.querySelectorAll("li.msg-bot").length;

  function conversation() {
    return form.querySelector("input[name=conversation]").value;
  }
  function setConversation(id) {
    var fields = document.querySelectorAll("input[name=conversation]");
    for (var i = 0; i < fields.length; i++) {
      fields[i].value = id;
    }
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function link(url, label) {
    var a = el("a", "", label);
    a.setAttribute("href", url);
    return a;
  }
  function addUser(text) {
    if (!text) { return; }
    var li = el("li", "msg msg-user");
    li.appendChild(el("p", "who", log.dataset.you));
    li.appendChild(el("p", "", text));
    log.appendChild(li);
  }
  function paragraphs(li, text) {
    text.split("\n\n").forEach(function (block) {
      var p = [], items = [];
      block.split("\n").forEach(function (line) {
        line = line.trim();
        if (line.indexOf("• ") === 0) { items.push(line.slice(2)); } else if (line) { p.push(line); }
      });
      if (p.length) { li.appendChild(el("p", "", p.join(" "))); }
      if (items.length) {
        var ul = el("ul");
        items.forEach(function (it) { ul.appendChild(el("li", "", it)); });
        li.appendChild(ul);
      }
    });
  }
  function addReply(rep) {
    count++;
    var li = el("li", "msg msg-bot");
    li.id = "antwort-" + count;
    li.appendChild(el("p", "who", log.dataset.bot));
    paragraphs(li, rep.text || "");
    var ul;
    if (rep.services && rep.services.length && rep.intent !== "clarify") {
      ul = el("ul", "chat-services");
      rep.services.forEach(function (s) {
        var item = el("li");
        item.appendChild(link(s.url, s.name));
        if (s.office) { item.appendChild(document.createTextNode(" – " + s.office)); }
        ul.appendChild(item);
      });
      li.appendChild(ul);
    }
    if (rep.links && rep.links.length) {
      ul = el("ul", "chat-links");
      rep.links.forEach(function (l) {
        var item = el("li");
        item.appendChild(link(l.url, l.label));
        ul.appendChild(item);
      });
      li.appendChild(ul);
    }
    if (rep.apply) {
      var f = el("form", "chat-apply");
      f.method = "get";
      f.action = rep.apply.url;
      if (log.dataset.loggedIn === "1") {
        var p = el("p");
        var box = el("input");
        box.type = "checkbox";
        box.id = "prefill-" + count;
        box.name = rep.apply.prefill_param;
        box.value = "1";
        var lab = el("label", "inline", rep.apply.consent_label);
        lab.htmlFor = box.id;
        p.appendChild(box);
        p.appendChild(document.createTextNode(" "));
        p.appendChild(lab);
        f.appendChild(p);
      } else {
        f.appendChild(el("p", "hint", rep.apply.login_hint));
      }
      var b = el("button", "", log.dataset.apply);
      b.type = "submit";
      f.appendChild(b);
      li.appendChild(f);
    }
    if (rep.stand) { li.appendChild(el("p", "stand", log.dataset.stand.replace("{date}", rep.stand))); }
    if (rep.disclaimer) { li.appendChild(el("p", "disclaimer", rep.disclaimer)); }
    log.appendChild(li);
    setChoices(rep.choices || []);
  }
  function setChoices(list) {
    var group = choices.querySelector(".chat-choice-buttons");
    while (group.firstChild) { group.removeChild(group.firstChild); }
    list.forEach(function (c) {
      var b = el("button", "", c.label);
      b.type = "submit";
      b.name = "message";
      b.value = c.value;
      group.appendChild(b);
    });
    choices.hidden = list.length === 0;
  }
  function send(message, shown) {
    if (busy) { return; }
    busy = true;
    status.textContent = log.dataset.sending;
    addUser(shown);
    fetch("/api/assistant", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ conversation: conversation(), message: message })
    }).then(function (res) {
      return res.json().then(function (body) { return { ok: res.ok, body: body }; });
    }).then(function (r) {
      if (!r.ok || !r.body.reply) {
        throw new Error(r.body && r.body.error ? r.body.error.message : "error");
      }
      setConversation(r.body.conversation);
      addReply(r.body.reply);
      status.textContent = "";
    }).catch(function (err) {
      status.textContent = log.dataset.failed + (err && err.message && err.message !== "error" ? " (" + err.message + ")" : "");
    }).then(function () {
      busy = false;
      input.focus();
    });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    input.value = "";
    send(text, text);
  });
  choices.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var b = ev.submitter;
    if (!b || !b.value) { return; }
    send(b.value, b.textContent);
  });
})();

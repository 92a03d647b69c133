/* HubEE Portal: small enhancements. Every page works without them (RGAA, no inline script). */
(function () {
  "use strict";

  // After a submit, the outcome message (or the first error) takes the focus: a screen reader
  // hears it, and the keyboard goes on from there, not from the top of the page.
  function focusOutcome() {
    var target = document.querySelector("[data-focus-on-load]");
    if (!target && document.title.indexOf("Erreur") === 0) {
      target = document.querySelector("main [role=alert]");
    }
    if (target) {
      if (!target.hasAttribute("tabindex")) { target.setAttribute("tabindex", "-1"); }
      target.focus();
    }
  }

  // A form the agent has started to fill in is never replaced under their hands.
  function isDirty(region) {
    if (region.contains(document.activeElement) && document.activeElement !== document.body) {
      return true;
    }
    var fields = region.querySelectorAll("input, textarea, select");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.checked !== field.defaultChecked) { return true; }
      } else if (field.type === "file") {
        if (field.files && field.files.length) { return true; }
      } else if (field.tagName === "SELECT") {
        for (var j = 0; j < field.options.length; j++) {
          if (field.options[j].selected !== field.options[j].defaultSelected) { return true; }
        }
      } else if (field.type !== "hidden" && field.value !== field.defaultValue) {
        return true;
      }
    }
    var panels = region.querySelectorAll("details");
    for (var k = 0; k < panels.length; k++) {
      if (panels[k].open !== panels[k].hasAttribute("data-open-by-default")) { return true; }
    }
    return false;
  }

  // A page that follows its sends while one waits (the dossier page: status, conversation and
  // actions from dossiers:follow; the bulk action's summary): its live parts are asked again
  // every few seconds, then it stops.
  function follow() {
    var state = document.querySelector("main [data-live][data-waiting]");
    var source = document.querySelector("main [data-follow-url]");
    var announce = document.getElementById("annonce-envois");
    if (!state || !source || !window.fetch || !window.DOMParser) { return; }
    var url = source.getAttribute("data-follow-url");
    var started = Date.now();
    var retryThread = false;

    function waiting() { return state.getAttribute("data-waiting") === "1"; }

    function delay() {
      var elapsed = Date.now() - started;
      return elapsed < 60000 ? 2000 : elapsed < 600000 ? 10000 : 30000;
    }

    // Stopped (session over, or half an hour without an answer from HubEE): the page says
    // so; its refresh link still works.
    function stop(text) {
      var note = document.getElementById("suivi-arrete");
      if (note) {
        note.textContent = text;
        note.hidden = false;
      }
    }

    function swap(html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var parts = doc.querySelectorAll("[data-live]");
      var held = false;
      if (!parts.length) { return false; }
      for (var i = 0; i < parts.length; i++) {
        var name = parts[i].getAttribute("data-live");
        var current = document.querySelector("main [data-live='" + name + "']");
        if (!current) { continue; }
        if (name === "actions" && isDirty(current)) { held = true; continue; }
        if (name === "fil" && current.contains(document.activeElement)) {
          // The keyboard is on a button of the thread: replaced at the next round.
          retryThread = true;
          continue;
        }
        current.innerHTML = parts[i].innerHTML;
        if (parts[i].hasAttribute("data-waiting")) {
          current.setAttribute("data-waiting", parts[i].getAttribute("data-waiting"));
        }
      }
      var news = doc.querySelector("[data-announce]");
      if (announce && news && news.textContent.trim() !== announce.getAttribute("data-said")) {
        announce.setAttribute("data-said", news.textContent.trim());
        announce.textContent = news.textContent.trim();
      }
      var note = document.getElementById("actions-changees");
      if (note) { note.hidden = !held; }
      return true;
    }

    function tick() {
      if (!waiting() && !retryThread) { return; }
      retryThread = false;
      if (Date.now() - started > 1800000) {
        stop("Cette page ne se met plus à jour toute seule : actualisez-la pour voir où en " +
          "sont les envois.");
        return;
      }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          if (!swap(html)) {
            stop("Votre session a pris fin : actualisez la page pour vous reconnecter.");
            return;
          }
          if (waiting() || retryThread) { window.setTimeout(tick, delay()); }
        })
        .catch(function () { window.setTimeout(tick, Math.max(delay(), 10000)); });
    }

    if (waiting()) { window.setTimeout(tick, delay()); }
  }

  function start() {
    focusOutcome();
    follow();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

/* ==== Dossier list: « Tout sélectionner sur cette page » (issue 17) ==========================
   Without JavaScript the link reloads the page with every box checked; with it, the boxes are
   checked (or unchecked) in place and the link says what a next click does. */
(function () {
  "use strict";

  function selectAll() {
    var link = document.querySelector("a[data-select-all]");
    var form = document.getElementById("selection");
    if (!link || !form) { return; }
    var boxes = form.querySelectorAll("input[type=checkbox][name=dossier]");
    link.setAttribute("role", "button");
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var all = Array.prototype.every.call(boxes, function (box) { return box.checked; });
      Array.prototype.forEach.call(boxes, function (box) { box.checked = !all; });
      link.textContent = all ? "Tout sélectionner sur cette page" : "Tout désélectionner";
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", selectAll);
  } else {
    selectAll();
  }
})();

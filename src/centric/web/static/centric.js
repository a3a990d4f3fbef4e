// centric — the web app's behaviours, bound by data-* attributes (the CSP forbids inline scripts).
// Other parts of the app append their sections at the end, under a comment naming the part.
"use strict";
(function () {
  // <select data-autosubmit>: submit its form on change (the form still has a button without JS)
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) { el.form.submit(); }
  });
  // <form data-confirm="question">: ask before submitting
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var q = form && form.getAttribute && form.getAttribute("data-confirm");
    if (q && !window.confirm(q)) { e.preventDefault(); }
  });
  // centric.csrf(): the page's CSRF token for fetch() (header X-CSRF-Token)
  window.centric = window.centric || {};
  window.centric.csrf = function () {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  };
})();

// -- dashboards: the report's charts drawn from their JSON, and the action matrix's factors opened in place
(function () {
  function draw() {
    var data = document.getElementById("chart-specs");
    if (!data || !window.Plotly) { return; }
    var specs = JSON.parse(data.textContent || "{}");
    Object.keys(specs).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) { return; }
      var layout = specs[id].layout;
      if (el.clientWidth && el.clientWidth < 500) {  // a phone: smaller margins, the legend below
        layout.margin = {l: 44, r: 10, t: 40, b: 60};
      }
      window.Plotly.newPlot(el, specs[id].data, layout, {displaylogo: false, responsive: true});
      if (el.hasAttribute("data-factor-target")) {
        el.on("plotly_click", function (ev) {
          var p = ev && ev.points && ev.points[0];
          if (p && p.customdata) { openFactor(p.customdata, el.getAttribute("data-factor-target")); }
        });
      }
    });
  }
  function factorUrl(factor) {
    var link = document.querySelector("a[data-factor=\"" + (window.CSS && CSS.escape ? CSS.escape(factor) : factor) + "\"]");
    if (link) { return link.getAttribute("href"); }
    return "/dashboards/factor/" + encodeURIComponent(factor) + window.location.search;
  }
  function openFactor(factor, targetId) {
    var target = document.getElementById(targetId || "factor-detail");
    var url = factorUrl(factor);
    if (!target) { window.location.href = url; return; }
    var sep = url.indexOf("?") < 0 ? "?" : "&";
    target.setAttribute("aria-busy", "true");
    fetch(url + sep + "partial=1", {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (html) {
        target.innerHTML = html;  // the server's template, escaped there
        target.removeAttribute("aria-busy");
        target.scrollIntoView({behavior: "smooth", block: "nearest"});
        var h = target.querySelector("h2");
        if (h) { h.setAttribute("tabindex", "-1"); h.focus({preventScroll: true}); }
      })
      .catch(function () { window.location.href = url; });
  }
  document.addEventListener("click", function (e) {
    var a = e.target && e.target.closest ? e.target.closest("a[data-factor]") : null;
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) { return; }
    if (!document.getElementById("factor-detail")) { return; }
    e.preventDefault();
    openFactor(a.getAttribute("data-factor"), "factor-detail");
  });
  // after every deferred script (plotly.min.js comes after this one)
  if (document.readyState === "complete") { draw(); } else { document.addEventListener("DOMContentLoaded", draw); }
})();

// -- the wide menu's groups (<details data-nav-group>): they open without script; with it, a click elsewhere or
// Escape closes them (Escape gives the focus back to the group's summary)
(function () {
  function groups() { return Array.prototype.slice.call(document.querySelectorAll("details[data-nav-group][open]")); }
  document.addEventListener("click", function (e) {
    groups().forEach(function (d) { if (!d.contains(e.target)) { d.open = false; } });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") { return; }
    groups().forEach(function (d) {
      if (d.contains(document.activeElement)) { d.querySelector("summary").focus(); }
      d.open = false;
    });
  });
})();

// -- fields that matter only for one choice (<label data-shown-when="compare=reached">): shown without script;
// with it, hidden while the form's field of that name has another value
(function () {
  function update() {
    Array.prototype.slice.call(document.querySelectorAll("[data-shown-when]")).forEach(function (el) {
      var rule = el.getAttribute("data-shown-when").split("=");
      var form = el.closest("form");
      var field = form && form.elements.namedItem(rule[0]);
      if (field) { el.hidden = field.value !== rule.slice(1).join("="); }
    });
  }
  document.addEventListener("change", update);
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", update); } else { update(); }
})();

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

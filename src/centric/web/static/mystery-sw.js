// centric — the service worker of the mystery-shopping form (served as /mystery/sw.js, scope /mystery/).
// It keeps the form and its styles and scripts, so that the form opens without a connection (network first,
// the kept copy when the network fails). Visits themselves wait in the page's IndexedDB outbox (mystery.js).
"use strict";
var CACHE = "centric-mystery-v1";
var SHELL = ["/mystery/new", "/static/centric.css", "/static/mystery.css", "/static/centric.js", "/static/mystery.js",
             "/static/favicon.svg"];

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("centric-mystery-") === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (e) {
  var req = e.request;
  if (req.method !== "GET") { return; }
  var url = new URL(req.url);
  var form = url.pathname === "/mystery/new";
  if (url.origin !== self.location.origin || !(form || SHELL.indexOf(url.pathname) >= 0)) { return; }
  e.respondWith(fetch(req).then(function (res) {
    if (res.ok && res.type === "basic") {
      var copy = res.clone();
      caches.open(CACHE).then(function (c) { return c.put(req, copy); });
    }
    return res;
  }).catch(function () {
    return caches.match(req).then(function (hit) {
      return hit || (form ? caches.match("/mystery/new") : undefined) || Response.error();
    });
  }));
});

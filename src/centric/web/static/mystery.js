// centric — mystery shopping: the entry form keeps working without a connection.
// The form works without this script (a plain POST). With it: a service worker keeps the form for use offline,
// a submitted visit goes to an outbox in IndexedDB first and is sent from there (now, or when the connection is
// back); each visit carries its own id, so a visit sent twice is stored once.
"use strict";
(function () {
  var form = document.querySelector("form[data-mystery-form]");
  if (!form || !window.indexedDB || !window.fetch || !window.FormData) { return; }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/mystery/sw.js", {scope: "/mystery/"}).catch(function () {});
  }
  var status = document.getElementById("mystery-status");
  var queue = document.getElementById("mystery-queue");
  var DB = "centric-mystery", STORE = "outbox", busy = false, user = form.getAttribute("data-user") || "";

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  }
  function open() {
    return new Promise(function (ok, ko) {
      var r = indexedDB.open(DB, 1);
      r.onupgradeneeded = function () { r.result.createObjectStore(STORE, {keyPath: "visit_id"}); };
      r.onsuccess = function () { ok(r.result); };
      r.onerror = function () { ko(r.error); };
    });
  }
  function tx(mode, fn) {
    return open().then(function (db) {
      return new Promise(function (ok, ko) {
        var t = db.transaction(STORE, mode), req = fn(t.objectStore(STORE));
        t.oncomplete = function () { db.close(); ok(req ? req.result : undefined); };
        t.onerror = function () { db.close(); ko(t.error); };
      });
    });
  }
  function say(text, kind) {
    status.hidden = !text;
    status.textContent = text || "";
    status.className = "notice" + (kind ? " " + kind : "");
  }
  function showQueue(n, sent) {
    var parts = [];
    if (n) { parts.push(queue.getAttribute("data-queued").replace("{n}", n)); }
    if (sent) { parts.push(queue.getAttribute("data-sent").replace("{n}", sent)); }
    queue.hidden = !parts.length;
    queue.textContent = parts.join(" ");
  }
  function token() {
    var input = form.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }
  function send(rec) {
    var body = new FormData();
    rec.fields.forEach(function (kv) { body.append(kv[0], kv[1]); });
    rec.files.forEach(function (f) { body.append("files", f.blob, f.name); });
    body.append("csrf_token", token());
    return fetch("/mystery/new", {method: "POST", body: body, credentials: "same-origin", redirect: "manual",
                                  headers: {"Accept": "application/json", "X-CSRF-Token": token()}});
  }
  // send every waiting visit; resolves with the answer to ``mine`` (a visit id) when it was sent now
  function flush(mine) {
    if (busy) { return Promise.resolve(null); }
    busy = true;
    var sent = 0, result = null;
    return tx("readonly", function (s) { return s.getAll(); }).then(function (recs) {
      // only this person's visits: on a shared phone another shopper's wait for them to sign in again
      recs = (recs || []).filter(function (r) { return !r.refused && r.user === user; });
      return recs.reduce(function (p, rec) {
        return p.then(function () {
          return send(rec).then(function (res) {
            if (res.status === 200 || res.status === 201) {
              return res.json().then(function (j) {
                sent += 1;
                if (rec.visit_id === mine) { result = j; }
                return tx("readwrite", function (s) { return s.delete(rec.visit_id); });
              });
            }
            if (res.status === 422) {  // the server will never take it as it is: kept, not resent
              return res.json().then(function (j) {
                rec.refused = j.detail || "refused";
                say(queue.getAttribute("data-failed") + " " + rec.refused, "bad");
                return tx("readwrite", function (s) { return s.put(rec); });
              });
            }
            return null;  // signed out, another error: kept for the next try
          });
        });
      }, Promise.resolve());
    }).catch(function () { return null; }).then(function () {
      return tx("readonly", function (s) { return s.getAll(); });
    }).then(function (left) {
      var n = (left || []).filter(function (r) { return r.user === user && !r.refused; }).length;
      busy = false;
      showQueue(n, sent);
      return result;
    }, function () { busy = false; return result; });
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var data = new FormData(form), fields = [], files = [];
    data.forEach(function (value, key) {
      if (key === "csrf_token") { return; }
      if (typeof value === "string") { fields.push([key, value]); }
      else if (value && value.size) { files.push({name: value.name, type: value.type, blob: value}); }
    });
    var id = form.querySelector("input[name=visit_id]").value;
    var rec = {visit_id: id, user: user, fields: fields, files: files, saved_at: new Date().toISOString()};
    tx("readwrite", function (s) { return s.put(rec); }).then(function () {
      form.reset();
      form.querySelector("input[name=visit_id]").value = newId();
      window.scrollTo(0, 0);
      return flush(id);
    }).then(function (got) {
      if (got && got.url) { window.location.assign(got.url + (got.stored ? "?saved=1" : "?again=1")); return; }
      tx("readonly", function (s) { return s.get(id); }).then(function (still) {
        if (still && !still.refused) { say(queue.getAttribute("data-offline"), "good"); }
      });
    });
  });
  // a form from the offline cache carries an old id: every page load gets its own
  form.querySelector("input[name=visit_id]").value = newId();
  window.addEventListener("online", function () { flush(null); });
  flush(null);
})();

/**
 * The dashboard's one script, served as /dashboard/live.js (CSP script-src 'self'). Every
 * {@link LIVE_EVERY_S} seconds it fetches the page's live fragment (the URL in
 * <body data-live>) and swaps each element marked data-live-part for the fresh one with
 * the same id, parsed by DOMParser (the server escaped all text; parsed scripts never
 * run). A part holding the focused field or an edited, unsaved form field is left alone
 * until the operator is done. It pauses while the tab is hidden and stops once the
 * session has ended. Without it, the server-rendered page is complete; a reload refreshes.
 */

/** Seconds between refreshes. */
export const LIVE_EVERY_S = 5;

/** The script's source. */
export const LIVE_SCRIPT = `"use strict";
(function () {
  var src = document.body.getAttribute("data-live");
  var status = document.getElementById("live-status");
  if (!src || !window.fetch || !window.DOMParser) return;
  var every = ${LIVE_EVERY_S * 1000};
  var timer = 0;
  function say(text) { if (status) status.textContent = text; }
  function edited(part) {
    var active = document.activeElement;
    if (active && active !== document.body && part.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) return true;
    var fields = part.querySelectorAll("input, select, textarea");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.tagName === "SELECT") {
        for (var j = 0; j < f.options.length; j++) if (f.options[j].selected !== f.options[j].defaultSelected) return true;
      } else if (f.type === "checkbox" || f.type === "radio") {
        if (f.checked !== f.defaultChecked) return true;
      } else if (f.value !== f.defaultValue) return true;
    }
    return false;
  }
  function schedule() { clearTimeout(timer); timer = setTimeout(refresh, every); }
  function refresh() {
    if (document.hidden) return schedule();
    fetch(src, { credentials: "same-origin", cache: "no-store", headers: { accept: "text/html" } })
      .then(function (res) {
        if (res.status === 401) { say("Signed out: reload to sign in again."); return null; }
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.text();
      })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelectorAll("[data-live-part]");
        var kept = 0;
        for (var i = 0; i < fresh.length; i++) {
          var old = document.getElementById(fresh[i].id);
          if (!old) continue;
          if (edited(old)) { kept++; continue; }
          old.replaceWith(document.importNode(fresh[i], true));
        }
        say("Live: updated " + new Date().toISOString().slice(11, 19) + " UTC" + (kept ? " (" + kept + " part(s) you are editing kept)" : ""));
        schedule();
      })
      .catch(function (e) { say("Refresh failed (" + e.message + "); retrying."); schedule(); });
  }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
  say("Live: refreshes every ${LIVE_EVERY_S} s");
  schedule();
})();
`;

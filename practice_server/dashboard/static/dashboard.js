// Live arrivals (server-sent events), the ticking "waited" minutes, and the idle sign-out
// countdown. Pages work without this file; it only keeps them current.
(function () {
  "use strict";

  function tickWaits() {
    var now = Date.now();
    document.querySelectorAll(".waited[data-since]").forEach(function (el) {
      var since = Date.parse(el.getAttribute("data-since"));
      if (!isNaN(since)) el.textContent = Math.max(0, Math.floor((now - since) / 60000)) + " min";
    });
  }

  function live() {
    var state = document.getElementById("live-state");
    var body = document.getElementById("arrivals");
    if (!state || !body || !window.EventSource) return;
    var source = new EventSource(state.getAttribute("data-src"));
    source.addEventListener("open", function () { state.className = "live on"; });
    source.addEventListener("error", function () { state.className = "live off"; });
    source.addEventListener("arrivals", function (e) {
      var data = JSON.parse(e.data);
      var before = {};
      body.querySelectorAll("tr[data-appointment]").forEach(function (tr) { before[tr.dataset.appointment] = tr.className; });
      body.innerHTML = data.html;  // rendered and escaped by the server's template
      body.querySelectorAll("tr[data-appointment]").forEach(function (tr) {
        var was = before[tr.dataset.appointment];
        if (was !== undefined && was !== tr.className) tr.classList.add("fresh");
      });
      var count = document.getElementById("waiting-count");
      if (count) count.textContent = data.waiting + " waiting";
      tickWaits();
    });
    source.addEventListener("signed_out", function () {
      source.close();
      window.location = document.body.getAttribute("data-login") || "/staff/login";
    });
  }

  function idleCountdown() {
    var seconds = parseInt(document.body.getAttribute("data-idle-seconds"), 10);
    var badge = document.getElementById("idle");
    if (!seconds || !badge) return;
    var deadline = Date.now() + seconds * 1000;
    setInterval(function () {
      var left = Math.round((deadline - Date.now()) / 1000);
      if (left <= 0) { window.location = document.body.getAttribute("data-login"); return; }
      if (left <= 120) {
        badge.hidden = false;
        badge.textContent = "Signing out in " + left + " s — click anywhere to stay";
      }
    }, 1000);
    // A click reloads nothing by itself; the next page request renews the server's session.
    document.addEventListener("click", function () {
      if (!badge.hidden) window.location.reload();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tickWaits();
    setInterval(tickWaits, 15000);
    live();
    idleCountdown();
  });
})();

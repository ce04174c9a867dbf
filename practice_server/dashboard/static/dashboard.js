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

  // Arrivals rows and the alert list come rendered (and escaped) by the server's templates.
  function live() {
    var state = document.getElementById("live-state");
    if (!state || !window.EventSource) return;
    var view = state.getAttribute("data-view") || "arrivals";
    var target = document.getElementById(state.getAttribute("data-target") || "arrivals");
    if (!target) return;
    var source = new EventSource(state.getAttribute("data-src"));
    source.addEventListener("open", function () { state.className = "live on"; });
    source.addEventListener("error", function () { state.className = "live off"; });
    source.addEventListener(view, function (e) {
      var data = JSON.parse(e.data);
      var before = {};
      target.querySelectorAll("[data-appointment], [data-alert]").forEach(function (el) {
        before[el.dataset.appointment || el.dataset.alert] = el.className;
      });
      target.innerHTML = data.html;
      target.querySelectorAll("[data-appointment], [data-alert]").forEach(function (el) {
        var was = before[el.dataset.appointment || el.dataset.alert];
        if (was !== el.className) el.classList.add("fresh");
      });
      var count = document.getElementById(view === "alerts" ? "open-count" : "waiting-count");
      if (count) count.textContent = view === "alerts" ? data.open + " open" : data.waiting + " waiting";
      var badge = document.getElementById("alerts-badge");
      if (badge && data.alerts !== undefined) {
        badge.textContent = data.alerts;
        badge.className = data.alerts ? "badge on" : "badge";
      }
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

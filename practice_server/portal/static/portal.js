// Small comforts only: every page works without this file.
(function () {
  "use strict";
  // "Show password" (the box is hidden without JS, where it could do nothing).
  var show = document.getElementById("show-password");
  if (show) {
    show.parentElement.hidden = false;
    show.addEventListener("change", function () {
      ["password", "password2"].forEach(function (id) {
        var field = document.getElementById(id);
        if (field) { field.type = show.checked ? "text" : "password"; }
      });
    });
  }
  // After a refused form, put the focus on the list of problems so it is read out first.
  var errors = document.getElementById("errors");
  if (errors) { errors.focus(); }
  // Keep digit fields to digits (phones sometimes offer letters on a numeric keyboard).
  ["day", "year", "code"].forEach(function (id) {
    var field = document.getElementById(id);
    if (field) {
      field.addEventListener("input", function () {
        var digits = field.value.replace(/[^0-9]/g, "");
        if (digits !== field.value) { field.value = digits; }
      });
    }
  });
}());

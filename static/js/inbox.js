// Inbox: select all on the page, a live count of the selection, and only
// the bulk fields that the chosen action uses.
(function () {
  "use strict";
  var form = document.getElementById("bulk-form");
  if (!form) return;
  var all = document.getElementById("select-all");
  var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="ids"]'));
  var count = document.getElementById("selected-count");
  var action = document.getElementById("bulk-action");

  function refresh() {
    var n = boxes.filter(function (b) { return b.checked; }).length;
    if (count) count.textContent = n ? n + " selected:" : "Select exceptions below, then";
    if (all) {
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
  }

  function showFields() {
    if (!action) return;
    var a = action.value;
    var show = { ".bulk-assignee": a === "assign", ".bulk-note": a === "resolve" || a === "ignore", ".bulk-until": a === "ignore" };
    Object.keys(show).forEach(function (sel) {
      var el = form.querySelector(sel);
      if (el) el.hidden = !show[sel];
    });
  }

  if (all) {
    all.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      refresh();
    });
  }
  boxes.forEach(function (b) { b.addEventListener("change", refresh); });
  if (action) action.addEventListener("change", showFields);
  form.addEventListener("submit", function (ev) {
    if (!boxes.some(function (b) { return b.checked; })) {
      ev.preventDefault();
      if (count) count.textContent = "Select at least one exception first:";
    }
  });
  refresh();
  showFields();
})();

// The tenant switcher opens the chosen tenant as soon as it is picked (the Go
// button stays for browsers without scripts); the user menu closes on Escape
// or a click elsewhere.
document.querySelectorAll(".tenant-switch").forEach(function (form) {
  var select = form.querySelector("select");
  var go = form.querySelector(".switch-go");
  if (go) go.hidden = true;
  select.addEventListener("change", function () { form.submit(); });
});
document.addEventListener("click", function (event) {
  document.querySelectorAll("details.usermenu[open]").forEach(function (menu) {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") return;
  document.querySelectorAll("details.usermenu[open]").forEach(function (menu) { menu.removeAttribute("open"); });
});

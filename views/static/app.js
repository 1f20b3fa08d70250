// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });

  // The slip's QR opens /attiva#codice=XXXX-XXXX-XXXX. The fragment never
  // reaches the server; keep it in this tab across login or registration,
  // and fill it in on the activation form.
  var m = /(?:^#|&)codice=([A-Za-z0-9-]{12,20})/.exec(window.location.hash);
  try {
    if (m) {
      sessionStorage.setItem("fse-activation-code", m[1]);
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    var input = document.querySelector("[data-activation-code]");
    var saved = sessionStorage.getItem("fse-activation-code");
    if (input && saved) {
      if (!input.value) { input.value = saved.toUpperCase(); }
      sessionStorage.removeItem("fse-activation-code");
    }
  } catch (e) { /* storage disabled: the patient types the code */ }
});

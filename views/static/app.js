// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  fseEnhance(document);

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

// fseEnhance binds the scripts of a page's content; the upload form calls
// it again once it has shown the server's answer in place.
function fseEnhance(root) {
  root.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
  root.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
  root.querySelectorAll("form[data-read-fiscal-code]").forEach(fseReadFiscalCode);
  root.querySelectorAll("form[data-upload-progress]").forEach(fseUploadWithProgress);
  root.querySelectorAll("button[data-reveal]").forEach(fseRevealPassword);
  root.querySelectorAll("[data-error-summary]").forEach(fseErrorSummary);
}

// The acceptance form: once the codice fiscale has 16 characters, the
// server reads it (the rules live there) and the birth date and sex fill
// in, unless the receptionist typed them; the birth place is only shown,
// and the server fills it on submit when left empty.
function fseReadFiscalCode(form) {
  var input = form.querySelector("[name=fiscal_code]");
  var reading = form.querySelector("[data-fiscal-code-reading]");
  var birth = form.querySelector("[name=birth_date]");
  if (!input || !reading || !window.fetch || !window.URLSearchParams) { return; }
  var last = "";
  function sexRadios() { return form.querySelectorAll("input[name=sex]"); }
  function checkedSex() {
    var v = "";
    sexRadios().forEach(function (r) { if (r.checked) { v = r.value; } });
    return v;
  }
  function read() {
    var code = input.value.replace(/[\s.\-]/g, "").toUpperCase();
    if (code.length !== 16) {
      last = "";
      reading.textContent = "";
      return;
    }
    if (code === last) { return; }
    last = code;
    fetch(form.getAttribute("data-read-fiscal-code"), {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: new URLSearchParams({ fiscal_code: code })
    }).then(function (res) {
      if (!res.ok) { throw new Error(res.status); }
      return res.json();
    }).then(function (r) {
      if (code !== last) { return; } // typed on meanwhile
      reading.textContent = r.summary || "";
      if (!r.valid) { return; }
      if (birth && (!birth.value || birth.value === birth.getAttribute("data-from-code"))) {
        birth.value = r.birth_date;
        birth.setAttribute("data-from-code", r.birth_date);
      }
      var sex = checkedSex();
      if (!sex || sex === form.getAttribute("data-sex-from-code")) {
        sexRadios().forEach(function (radio) { radio.checked = radio.value === r.sex; });
        form.setAttribute("data-sex-from-code", r.sex);
      }
    }).catch(function () { reading.textContent = ""; });
  }
  input.addEventListener("input", read);
}

// The upload form: the files go up with a progress bar, and the server's
// answer (the visit page) replaces this one in place. Without this script
// the form posts as usual.
function fseUploadWithProgress(form) {
  var status = form.querySelector("[data-upload-status]");
  var bar = status && status.querySelector("progress");
  var text = status && status.querySelector("[data-upload-text]");
  var button = form.querySelector("button[type=submit]");
  if (!bar || !text || !window.XMLHttpRequest || !window.FormData || !window.DOMParser) { return; }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (ev) {
      if (!ev.lengthComputable || !ev.total) { return; }
      bar.max = ev.total;
      bar.value = ev.loaded;
      text.textContent = "Invio dei file: " + Math.floor(100 * ev.loaded / ev.total) + "%";
    });
    xhr.upload.addEventListener("load", function () {
      bar.value = bar.max;
      status.setAttribute("data-state", "sent");
      text.textContent = "File inviati: controllo e salvataggio in corso…";
    });
    xhr.addEventListener("load", function () {
      var type = xhr.getResponseHeader("Content-Type") || "";
      if (type.indexOf("text/html") !== 0) { failed(); return; }
      // A redirect means every file was stored: show the visit's address.
      var url = xhr.responseURL && xhr.responseURL !== form.action ? xhr.responseURL : "";
      fseShowAnswer(xhr.responseText, url);
    });
    xhr.addEventListener("error", failed);
    xhr.addEventListener("abort", failed);
    function failed() {
      status.removeAttribute("data-state");
      text.textContent = "Caricamento interrotto: controlla la connessione e riprova.";
      if (button) { button.disabled = false; }
    }
    status.hidden = false;
    bar.value = 0;
    text.textContent = "Invio dei file…";
    if (button) { button.disabled = true; }
    xhr.send(new FormData(form));
  });
}

// fseShowAnswer replaces the page with the HTML the server answered and
// moves the focus to its message, as a page load would show it.
function fseShowAnswer(html, url) {
  var doc = new DOMParser().parseFromString(html, "text/html");
  document.title = doc.title;
  document.body.replaceWith(document.adoptNode(doc.body));
  if (url) { history.replaceState(null, "", url); }
  fseEnhance(document);
  var focus = document.querySelector(".flash") || document.querySelector("main h1");
  if (focus) {
    focus.setAttribute("tabindex", "-1");
    focus.focus();
  }
}

// A password's "Mostra" button: it shows the password as plain text and
// hides it again; the labels come from the page. The field is a password
// again before the form goes, so browsers offer to save it as one.
function fseRevealPassword(button) {
  var input = document.getElementById(button.getAttribute("data-reveal"));
  if (!input) { return; }
  function set(shown) {
    input.type = shown ? "text" : "password";
    button.textContent = button.getAttribute(shown ? "data-hide" : "data-show");
    button.setAttribute("aria-label", button.getAttribute(shown ? "data-hide-name" : "data-show-name"));
  }
  button.hidden = false;
  button.addEventListener("click", function () { set(input.type === "password"); });
  if (input.form) { input.form.addEventListener("submit", function () { set(false); }); }
}

// The error summary of a refused form: it has the focus (autofocus; here
// too for browsers that ignore autofocus on it), and each link puts the
// focus in its field, not only the page's scroll.
function fseErrorSummary(summary) {
  if (document.activeElement === document.body) { summary.focus(); }
  summary.querySelectorAll("a[href^='#f-']").forEach(function (a) {
    a.addEventListener("click", function (e) {
      var field = document.getElementById(a.getAttribute("href").slice(1));
      if (!field) { return; }
      e.preventDefault();
      var label = document.querySelector("label[for='" + field.id + "']") || field.closest("fieldset") || field;
      label.scrollIntoView();
      field.focus({ preventScroll: true });
    });
  });
}

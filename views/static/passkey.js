// Passkeys (WebAuthn). The page marks what to enhance:
//   [data-passkey-login=URL]     a button: passwordless login, or a login's
//                                second step;
//   form[data-passkey-register=URL]  adding a passkey (name, password).
// Both ask URL/opzioni for the options (JSON), run the browser's ceremony
// and post its answer as JSON to URL, which answers {redirect} or {error}.
// Without JavaScript or WebAuthn the controls stay hidden and the page says
// to use another method. The script holds no words: its messages are the
// data-msg-* attributes of the [data-passkey-error] box, in the page's
// language; a refusal the server explains comes with the server's words.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) { return; }

  function toBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var b = atob(s), u = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) { u[i] = b.charCodeAt(i); }
    return u.buffer;
  }
  function toB64(buf) {
    if (!buf) { return undefined; }
    var u = new Uint8Array(buf), s = "";
    for (var i = 0; i < u.length; i++) { s += String.fromCharCode(u[i]); }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function ids(list) {
    return (list || []).map(function (c) { c.id = toBuf(c.id); return c; });
  }
  function answer(cred) {
    var r = cred.response, out = {
      id: cred.id, rawId: toB64(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toB64(r.authenticatorData);
      out.response.signature = toB64(r.signature);
      out.response.userHandle = toB64(r.userHandle);
    }
    return JSON.stringify(out);
  }
  function post(url, body, type) {
    var init = { method: "POST", credentials: "same-origin", body: body, headers: { "Accept": "application/json" } };
    if (type) { init.headers["Content-Type"] = type; }
    return fetch(url, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (j) {
        if (!res.ok) { var err = new Error(j.error || ""); err.name = "ServerError"; throw err; }
        return j;
      });
    });
  }
  function errorBox(el) {
    return el.querySelector("[data-passkey-error]") || document.querySelector("[data-passkey-error]");
  }
  function say(box, key) {
    return (box && box.getAttribute("data-msg-" + key)) || "";
  }
  function show(el, e) {
    var box = errorBox(el), msg = ceremonyError(e, box);
    if (!box) { window.alert(msg); return; }
    box.textContent = msg;
    box.hidden = false;
    box.focus();
  }
  function ceremonyError(e, box) {
    if (e && (e.name === "NotAllowedError" || e.name === "AbortError")) {
      return say(box, "cancelled");
    }
    if (e && e.name === "InvalidStateError") {
      return say(box, "exists");
    }
    if (e && e.name === "ServerError") {
      return e.message || say(box, "generic");
    }
    return (e && e.message) || say(box, "failed");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-passkey-only]").forEach(function (el) { el.hidden = false; });
    document.querySelectorAll("[data-passkey-missing]").forEach(function (el) { el.hidden = true; });

    document.querySelectorAll("[data-passkey-login]").forEach(function (btn) {
      var url = btn.getAttribute("data-passkey-login");
      btn.hidden = false;
      btn.addEventListener("click", function () {
        btn.disabled = true;
        post(url + "/opzioni").then(function (o) {
          var pk = o.publicKey;
          pk.challenge = toBuf(pk.challenge);
          pk.allowCredentials = ids(pk.allowCredentials);
          return navigator.credentials.get({ publicKey: pk });
        }).then(function (cred) {
          return post(url, answer(cred), "application/json");
        }).then(function (j) {
          window.location.assign(j.redirect);
        }).catch(function (e) {
          btn.disabled = false;
          show(btn.parentNode, e);
        });
      });
    });

    document.querySelectorAll("form[data-passkey-register]").forEach(function (form) {
      var url = form.getAttribute("data-passkey-register");
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var btn = form.querySelector("button");
        if (btn) { btn.disabled = true; }
        post(url + "/opzioni", new URLSearchParams(new FormData(form)), "application/x-www-form-urlencoded").then(function (o) {
          var pk = o.publicKey;
          pk.challenge = toBuf(pk.challenge);
          pk.user.id = toBuf(pk.user.id);
          pk.excludeCredentials = ids(pk.excludeCredentials);
          return navigator.credentials.create({ publicKey: pk });
        }).then(function (cred) {
          return post(url, answer(cred), "application/json");
        }).then(function (j) {
          window.location.assign(j.redirect);
        }).catch(function (e) {
          if (btn) { btn.disabled = false; }
          show(form, e);
        });
      });
    });
  });
})();

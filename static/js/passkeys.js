// Passkeys with the browser's own WebAuthn (navigator.credentials); no third-party code.
//
// A form marked data-passkey="register" (Account page) or "sign-in" (sign-in page) is shown only where
// the browser can use a passkey. Its button asks the server for the ceremony's options (the form named
// by data-options: a POST with the CSRF token, answered with JSON), lets the device do its own check,
// puts the device's answer as JSON into the form's "credential" field and sends the form as usual:
// the server's answer is an ordinary page.
(function () {
  "use strict";

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && navigator.credentials.create);
  }

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return { type: d.type, id: toBytes(d.id), transports: d.transports };
    });
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.user = Object.assign({}, json.user, { id: toBytes(json.user.id) });
    options.excludeCredentials = descriptors(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = toBytes(json.challenge);
    options.allowCredentials = descriptors(json.allowCredentials);
    return options;
  }

  function credentialJSON(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toBase64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toBase64url(r.attestationObject);
      response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
    } else {
      response.authenticatorData = toBase64url(r.authenticatorData);
      response.signature = toBase64url(r.signature);
      response.userHandle = r.userHandle ? toBase64url(r.userHandle) : null;
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      response: response,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    });
  }

  function fetchOptions(form) {
    var source = document.getElementById(form.dataset.options);
    return fetch(source.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      body: new URLSearchParams(new FormData(source)),
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) throw new Error(body.error || form.dataset.failed);
        return body;
      });
    });
  }

  function say(form, text) {
    var message = form.querySelector("[data-passkey-message]");
    if (!message) return;
    message.textContent = text;
    message.hidden = !text;
  }

  function ceremony(form) {
    var busy = form.querySelectorAll("button");
    busy.forEach(function (b) { b.disabled = true; });
    say(form, "");
    var registering = form.dataset.passkey === "register";
    fetchOptions(form)
      .then(function (json) {
        return registering
          ? navigator.credentials.create({ publicKey: creationOptions(json) })
          : navigator.credentials.get({ publicKey: requestOptions(json) });
      })
      .then(function (credential) {
        if (!credential) throw new Error(form.dataset.failed);
        form.querySelector("input[name=credential]").value = credentialJSON(credential);
        form.submit();
      })
      .catch(function (error) {
        busy.forEach(function (b) { b.disabled = false; });
        // The device's own refusals (cancelled, timed out, not allowed) read alike to a person.
        var fromServer = error && error.name === "Error" && error.message;
        say(form, fromServer || form.dataset.failed);
      });
  }

  function wire(root) {
    var forms = root.querySelectorAll("form[data-passkey]");
    if (!forms.length) return;
    var canUse = supported();
    forms.forEach(function (form) {
      if (form.dataset.passkeyWired) return;
      form.dataset.passkeyWired = "1";
      if (!canUse) { form.hidden = true; return; }
      form.hidden = false;
      if (form.dataset.passkey === "sign-in") {
        form.querySelector("[data-passkey-start]").addEventListener("click", function () { ceremony(form); });
      } else {
        form.addEventListener("submit", function (event) {
          var name = form.querySelector("input[name=name]");
          // Without a name the server says what is missing before the device is asked anything.
          if (name && !name.value.trim()) return;
          event.preventDefault();
          ceremony(form);
        });
      }
    });
    var unsupported = root.querySelector("[data-passkey=unsupported]");
    if (unsupported) unsupported.hidden = canUse;
    if (!canUse) return;
    // Adding one needs a passkey on this very device (its own fingerprint, face or PIN check).
    var register = root.querySelector("form[data-passkey=register]");
    if (register && PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable) {
      PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable().then(function (available) {
        register.hidden = !available;
        if (unsupported) unsupported.hidden = available;
      });
    }
  }

  wire(document);
  document.addEventListener("htmx:load", function (event) { wire(event.target); });
})();

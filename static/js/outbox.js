// The outbox of this device: handover entries, incidents, observations and night-round records written
// while the connection is gone are kept here (IndexedDB) and sent when it is back, each exactly once.
//
// A form with `data-outbox` is sent by this script, not by the browser: it is stored first, then sent
// with an Idempotency-Key (the key it was stored under), so a retry after a lost answer is the same
// entry to the server. What could not be sent stays, shown as "not sent yet": when the connection is
// gone, and also when the session or its CSRF token ended meanwhile (it is sent after the next sign-in
// by the same account). Nothing is ever dropped without the person seeing it: an item the server
// refuses stays with the server's message until the person removes it. Signing out warns first about
// unsent items, then clears the outbox (the server's Clear-Site-Data clears the caches too).
// Without JavaScript, or without IndexedDB, the same forms are plain POSTs.
(function () {
  "use strict";
  var DB_NAME = "shelter-outbox";
  var STORE = "items";
  var RETRY_MS = 20000;
  var box = document.getElementById("outbox");
  var unsentPage = document.getElementById("outbox-unsent"); // the offline page's list
  var status = document.getElementById("outbox-status");
  var supported = !!(window.indexedDB && window.fetch && window.URLSearchParams && window.FormData);
  var sending = false;
  var needSignIn = false;
  var unreachable = false;

  function text(name) {
    return (box && box.dataset[name]) || "";
  }

  function currentUser() {
    return box ? box.dataset.user || "" : "";
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- storage ----------------------------------------------------------------------------
  var opened = null;

  function database() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore(STORE, { keyPath: "key" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return opened;
  }

  function withStore(mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function allItems() {
    if (!supported) return Promise.resolve([]);
    return withStore("readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.created - b.created; });
    }).catch(function () { return []; });
  }

  function putItem(item) { return withStore("readwrite", function (store) { store.put(item); }); }
  function removeItem(key) { return withStore("readwrite", function (store) { store.delete(key); }); }
  function clearItems() { return supported ? withStore("readwrite", function (store) { store.clear(); }) : Promise.resolve(); }

  // --- sending ----------------------------------------------------------------------------
  // What came of one attempt: sent, offline (no answer), signin (session or CSRF token gone),
  // refused (the server said no, with a message), later (the server could not take it now).
  function send(item) {
    return fetch(item.url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken(),
        "Idempotency-Key": item.key
      },
      body: withToken(item.body)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        if (response.ok && data && data.ok) return { kind: "sent", data: data };
        if (response.status === 401 || response.status === 400) return { kind: "signin", data: data };
        if (response.status === 429 || response.status >= 500 || !data) return { kind: "later", data: data };
        return { kind: "refused", data: data, status: response.status };
      });
    }, function () {
      return { kind: "offline" };
    });
  }

  function locked(work) {
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request("shelter-outbox", work);
    }
    return work();
  }

  // Send every pending item of the signed-in account, oldest first; stop at the first that cannot go.
  function flush() {
    if (!supported || sending) return Promise.resolve();
    var user = currentUser();
    if (!user) return render();
    sending = true;
    var sentAny = false;
    var lastMessage = "";
    return locked(function () {
      return allItems().then(function (items) {
        var mine = items.filter(function (i) { return i.user === user && i.state === "pending"; });
        var next = function (index) {
          if (index >= mine.length) return Promise.resolve();
          var item = mine[index];
          return send(item).then(function (result) {
            unreachable = result.kind === "offline";
            needSignIn = result.kind === "signin";
            if (result.kind === "sent") {
              sentAny = true;
              lastMessage = result.data.message || "";
              return removeItem(item.key).then(function () { return next(index + 1); });
            }
            if (result.kind === "refused") {
              item.state = "refused";
              item.message = (result.data && result.data.message) || "";
              return putItem(item).then(function () { return next(index + 1); });
            }
            return null; // offline, signed out, or not now: try again later, in order
          });
        };
        return next(0);
      });
    }).catch(function () {}).then(function () {
      sending = false;
      if (sentAny) {
        showStatus((text("textSent") + " " + lastMessage).trim());
        refreshRegions();
      }
      return render();
    });
  }

  // --- a form handed to the outbox ----------------------------------------------------------
  function formBody(form, submitter, key) {
    var data;
    try {
      data = submitter ? new FormData(form, submitter) : new FormData(form);
    } catch (e) {
      data = new FormData(form);
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
    }
    var params = new URLSearchParams();
    data.forEach(function (value, name) {
      // A CSRF token is put in at sending time: the one of the session then, not of now (names end in it).
      if (/csrf_token$/.test(name)) value = "";
      params.append(name, name === "form_token" ? key : value);
    });
    return params.toString();
  }

  // The stored body with the CSRF token of the page that sends it.
  function withToken(body) {
    var params = new URLSearchParams(body);
    var token = csrfToken();
    var names = [];
    params.forEach(function (_value, name) { if (/csrf_token$/.test(name)) names.push(name); });
    names.forEach(function (name) { params.set(name, token); });
    return params.toString();
  }

  function clearErrors(form) {
    var old = form.querySelectorAll(".outbox-error");
    for (var i = 0; i < old.length; i++) old[i].remove();
    var invalid = form.querySelectorAll("[data-outbox-invalid]");
    for (var j = 0; j < invalid.length; j++) {
      invalid[j].removeAttribute("aria-invalid");
      invalid[j].removeAttribute("data-outbox-invalid");
    }
  }

  function showErrors(form, data) {
    clearErrors(form);
    var errors = (data && data.errors) || {};
    var shown = [];
    Object.keys(errors).forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (!field || !field.insertAdjacentElement || field.type === "hidden") return;
      var note = document.createElement("small");
      note.className = "field-error outbox-error";
      note.setAttribute("role", "alert");
      note.id = (field.id || name) + "-outbox-error";
      note.textContent = errors[name].join(" ");
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("data-outbox-invalid", "");
      field.setAttribute("aria-describedby", note.id);
      field.insertAdjacentElement("afterend", note);
      shown.push(errors[name].join(" "));
    });
    var message = (data && data.message) || "";
    if (message && shown.join(" ") !== message) {
      var notice = document.createElement("p");
      notice.className = "notice notice-error outbox-error";
      notice.setAttribute("role", "alert");
      notice.textContent = message;
      form.insertBefore(notice, form.firstChild);
    }
  }

  function setBusy(form, busy) {
    var buttons = form.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = busy;
  }

  function onSubmit(event) {
    var form = event.target;
    if (!supported || !form.matches || !form.matches("form[data-outbox]") || !currentUser()) return;
    event.preventDefault();
    if (form.dataset.outboxBusy) return;
    var submitter = event.submitter || null;
    var key = newKey();
    var label = form.dataset.outboxLabel || document.title;
    if (submitter && submitter.dataset.outboxSuffix) label += " · " + submitter.dataset.outboxSuffix;
    var item = {
      key: key, user: currentUser(), url: form.action, body: formBody(form, submitter, key), label: label,
      created: Date.now(), state: "pending", message: "", marker: form.dataset.outboxMarker || "",
      page: location.pathname
    };
    form.dataset.outboxBusy = "1";
    setBusy(form, true);
    putItem(item).then(function () {
      return locked(function () { return send(item); });
    }).then(function (result) {
      unreachable = result.kind === "offline";
      needSignIn = result.kind === "signin";
      if (result.kind === "sent") {
        clearErrors(form);
        form.reset();
        showStatus(result.data.message || text("textSent"));
        return removeItem(key).then(refreshRegions);
      }
      if (result.kind === "refused") {
        // The form still holds what was typed: the person corrects it there.
        showErrors(form, result.data);
        return removeItem(key);
      }
      // Kept on the device; the form is free for the next thing to write.
      clearErrors(form);
      form.reset();
      return null;
    }, function () {
      // The device could not store it: let the browser send the form as it is.
      delete form.dataset.outboxBusy;
      form.removeAttribute("data-outbox");
      form.submit();
    }).then(function () {
      delete form.dataset.outboxBusy;
      setBusy(form, false);
      return render();
    });
  }

  // --- showing it ------------------------------------------------------------------------------
  function showStatus(message) {
    if (!status || !message) return;
    status.textContent = message;
    status.hidden = false;
  }

  // A time as the shelter's clock shows it (the server's time zone, whatever the device's).
  function clock(ms) {
    var d = new Date(ms);
    try {
      return d.toLocaleTimeString(document.documentElement.lang || undefined, {
        hour: "2-digit", minute: "2-digit", hour12: false, timeZone: (box && box.dataset.timeZone) || undefined
      });
    } catch (e) {
      return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
    }
  }

  function markPending(items) {
    var old = document.querySelectorAll(".outbox-marker");
    for (var i = 0; i < old.length; i++) old[i].remove();
    var marked = document.querySelectorAll(".outbox-pending");
    for (var j = 0; j < marked.length; j++) marked[j].classList.remove("outbox-pending");
    items.forEach(function (item) {
      if (item.state !== "pending" || !item.marker || item.page !== location.pathname) return;
      var target = document.getElementById(item.marker);
      if (!target) return;
      target.classList.add("outbox-pending");
      var badge = document.createElement("span");
      badge.className = "badge badge-pending outbox-marker";
      badge.textContent = text("textPending");
      target.insertBefore(badge, target.firstChild);
    });
  }

  function render() {
    return allItems().then(function (items) {
      var user = currentUser();
      if (unsentPage) {
        var list = document.getElementById("outbox-unsent-items");
        list.textContent = "";
        items.forEach(function (item) {
          var li = document.createElement("li");
          li.textContent = item.label + " · " + clock(item.created);
          list.appendChild(li);
        });
        unsentPage.hidden = !items.length;
      }
      if (!box) return;
      markPending(items);
      var list2 = document.getElementById("outbox-items");
      list2.textContent = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.className = "outbox-item outbox-" + item.state;
        li.dataset.key = item.key;
        var what = document.createElement("span");
        what.className = "outbox-label";
        what.textContent = item.label + " · " + clock(item.created);
        li.appendChild(what);
        var state = document.createElement("span");
        state.className = "badge outbox-state";
        if (item.state === "refused") {
          state.textContent = text("textRefused");
          li.appendChild(state);
          var why = document.createElement("span");
          why.className = "outbox-message";
          why.textContent = item.message;
          li.appendChild(why);
          if (item.user === user) {
            var remove = document.createElement("button");
            remove.type = "button";
            remove.className = "secondary outline outbox-remove";
            remove.textContent = text("textRemove");
            remove.addEventListener("click", function () { removeItem(item.key).then(render); });
            li.appendChild(remove);
          }
        } else {
          state.textContent = !user || item.user === user ? text("textPending") : text("textOtherUser");
          li.appendChild(state);
        }
        list2.appendChild(li);
      });
      var count = document.getElementById("outbox-count");
      count.textContent = String(items.length);
      var hint = document.getElementById("outbox-hint");
      hint.textContent = "";
      if (!user || needSignIn) {
        hint.appendChild(document.createTextNode(text("textSignin") + " "));
        if (!user) {
          // On the sign-in page itself the form is right here.
        } else {
          var link = document.createElement("a");
          link.href = box.dataset.loginUrl + "?next=" + encodeURIComponent(location.pathname + location.search);
          link.textContent = text("textSigninLink");
          hint.appendChild(link);
        }
      } else if (unreachable || !navigator.onLine) {
        hint.textContent = text("textOffline");
      }
      box.hidden = !items.length;
      box.dataset.count = String(items.length); // read by the browser tests: how many wait, as last shown
    });
  }

  // After something was sent, the parts of the page that list it are read again (unless the person
  // is typing in them).
  function dirty(region) {
    if (region.contains(document.activeElement) && document.activeElement !== document.body) return true;
    var fields = region.querySelectorAll("input, textarea");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "hidden" || f.type === "checkbox" || f.type === "radio") continue;
      if (f.value !== f.defaultValue) return true;
    }
    return false;
  }

  function refreshRegions() {
    var regions = document.querySelectorAll("[data-outbox-refresh][id]");
    if (!regions.length) return Promise.resolve();
    return fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        for (var i = 0; i < regions.length; i++) {
          var region = regions[i];
          var fresh = doc.getElementById(region.id);
          if (!fresh || dirty(region)) continue;
          var adopted = document.importNode(fresh, true);
          region.replaceWith(adopted);
          if (window.htmx) window.htmx.process(adopted);
        }
      })
      .catch(function () {})
      .then(render);
  }

  // --- signing out ---------------------------------------------------------------------------------
  var dialog = document.getElementById("outbox-logout");
  var leaving = null;

  function signOut(form) {
    clearItems().catch(function () {}).then(function () { form.submit(); });
  }

  function onLogout(event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.logout-form") || !supported) return;
    event.preventDefault();
    flush().then(allItems).then(function (items) {
      if (!items.length || !dialog || !dialog.showModal) return signOut(form);
      leaving = form;
      var textNode = document.getElementById("outbox-logout-text");
      textNode.textContent = textNode.dataset.template.replace("{n}", String(items.length));
      dialog.showModal();
    });
  }

  if (dialog) {
    document.getElementById("outbox-logout-stay").addEventListener("click", function () {
      leaving = null;
      dialog.close();
    });
    document.getElementById("outbox-logout-go").addEventListener("click", function () {
      dialog.close();
      if (leaving) signOut(leaving);
    });
  }

  // --- when to try -----------------------------------------------------------------------------------
  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented) return;
    onLogout(event);
    onSubmit(event);
  });
  window.addEventListener("online", function () { unreachable = false; flush(); });
  window.addEventListener("offline", function () { render(); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) flush(); });
  window.setInterval(function () {
    allItems().then(function (items) {
      if (items.some(function (i) { return i.state === "pending" && i.user === currentUser(); })) flush();
    });
  }, RETRY_MS);

  // For the browser tests and the offline page: what the outbox holds now.
  window.shelterOutbox = { items: allItems, flush: flush };

  if (supported) flush();
})();

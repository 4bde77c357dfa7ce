// App behaviour kept out of the pages (the CSP allows no inline script).
// Strings shown here come translated from the page: data attributes on <body> and on the elements.
(function () {
  "use strict";
  var body = document.body;

  // --- Connection indicator in the header -------------------------------------------------
  var status = document.getElementById("net-status");
  var offlinePage = document.getElementById("offline-page");
  // True when the server could not be reached although the device thinks it is online; also
  // when this is the offline page, which the service worker shows only for a page that failed.
  var unreachable = !!offlinePage && location.pathname !== "/offline";

  function showNetwork() {
    if (!status) return;
    var offline = !navigator.onLine || unreachable;
    var label = status.querySelector(".net-label") || status;
    var text = offline ? status.dataset.offline : status.dataset.online;
    if (label.textContent !== text) label.textContent = text;
    status.classList.toggle("is-offline", offline);
    body.classList.toggle("is-offline", offline);
  }

  window.addEventListener("online", function () { unreachable = false; showNetwork(); clearOfflineNotices(); });
  window.addEventListener("offline", showNetwork);
  showNetwork();

  // --- htmx requests that fail for want of a connection -----------------------------------
  // The page stays as it was; a small notice appears next to what was clicked.
  var NOTICE_CLASS = "offline-notice";

  function clearOfflineNotices() {
    var notices = document.querySelectorAll("." + NOTICE_CLASS);
    for (var i = 0; i < notices.length; i++) notices[i].remove();
  }

  function showOfflineNotice(elt) {
    var notice = document.createElement("p");
    notice.className = "notice notice-error " + NOTICE_CLASS;
    notice.setAttribute("role", "alert");
    notice.textContent = body.dataset.offlineNotice;
    if (!elt || elt === body || elt === document.documentElement || !elt.parentNode) {
      var main = document.getElementById("main");
      main.insertBefore(notice, main.firstChild);
      return;
    }
    var next = elt.nextElementSibling;
    if (next && next.classList.contains(NOTICE_CLASS)) next.remove();
    elt.insertAdjacentElement("afterend", notice);
  }

  document.addEventListener("htmx:sendError", function (event) {
    unreachable = true;
    showNetwork();
    showOfflineNotice(event.detail && event.detail.elt);
  });
  document.addEventListener("htmx:afterOnLoad", function () {
    // The server answered: whatever notices there were are out of date.
    if (unreachable) { unreachable = false; showNetwork(); }
    clearOfflineNotices();
  });

  // --- Offline page: retry when the connection is back -------------------------------------
  if (offlinePage) {
    var retrying = false;
    var retry = function () {
      if (retrying) return;
      retrying = true;
      // Served in place of the page that failed to load: load that page again.
      if (location.pathname === "/offline") location.assign("/");
      else location.reload();
    };
    var retryButton = document.getElementById("offline-retry");
    if (retryButton) retryButton.addEventListener("click", retry);
    window.addEventListener("online", retry);
    // navigator.onLine says nothing about a server that cannot be reached: ask it now and then.
    var probe = function () {
      if (!navigator.onLine) return;
      fetch("/healthz", { cache: "no-store", credentials: "omit" })
        .then(function (response) { if (response.ok) retry(); })
        .catch(function () {});
    };
    window.setInterval(probe, 10000);
  }

  // --- Service worker: offline shell, and a prompt when a new version is ready ------------
  if (!("serviceWorker" in navigator) || !body.dataset.swUrl) return;
  var prompt = document.getElementById("sw-update");
  var reloadButton = document.getElementById("sw-update-reload");
  var reloadRequested = false;
  var updated = null; // the registration whose new version waits

  function offerUpdate(registration) {
    if (!prompt || !reloadButton) return;
    updated = registration;
    prompt.hidden = false;
  }

  if (reloadButton) {
    reloadButton.addEventListener("click", function () {
      reloadRequested = true;
      reloadButton.disabled = true;
      // The waiting version takes over; "controllerchange" then reloads the page.
      if (updated && updated.waiting) updated.waiting.postMessage({ type: "skip-waiting" });
      else location.reload();
    });
  }

  function watch(registration, worker) {
    worker.addEventListener("statechange", function () {
      // Installed while another version controls this page: an update, not the first install.
      if (worker.state === "installed" && navigator.serviceWorker.controller) offerUpdate(registration);
    });
  }

  navigator.serviceWorker.addEventListener("controllerchange", function () {
    if (reloadRequested) location.reload();
  });

  navigator.serviceWorker.register(body.dataset.swUrl, { scope: "/", updateViaCache: "none" })
    .then(function (registration) {
      if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration);
      if (registration.installing) watch(registration, registration.installing);
      registration.addEventListener("updatefound", function () {
        if (registration.installing) watch(registration, registration.installing);
      });
    })
    .catch(function () { /* no offline shell on this browser; the app works without it */ });
})();

// App behaviour kept out of the pages (the CSP allows no inline script).
(function () {
  "use strict";
  var status = document.getElementById("net-status");
  function showNetwork() {
    if (!status) return;
    status.textContent = navigator.onLine ? "" : (document.documentElement.lang === "en" ? "Offline" : "Offline – brak sieci");
  }
  window.addEventListener("online", showNetwork);
  window.addEventListener("offline", showNetwork);
  showNetwork();
})();

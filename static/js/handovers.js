// Handover pages: the print button of a printed day (the CSP allows no inline script).
(function () {
  "use strict";
  var button = document.getElementById("print-page");
  if (button) button.addEventListener("click", function () { window.print(); });
})();

// Starts ReDoc from a static file (the CSP forbids inline scripts). The nonce lets ReDoc's generated style
// elements through the policy's style-src without allowing inline styles in general.
(function () {
  "use strict";
  var container = document.getElementById("redoc-container");
  window.Redoc.init(container.getAttribute("data-spec-url"), { nonce: container.getAttribute("data-nonce") }, container);
})();

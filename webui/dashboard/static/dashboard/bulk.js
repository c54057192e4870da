// Progress of a bulk operation (a large portfolio scan or import done by a worker): polls its status, moves
// the bar, and reloads the page once it has ended so the outcome and the failed items are shown from the
// server. A static file because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var holder = document.querySelector("[data-bulk-status-url]");
  if (!holder || !window.pollJson || !holder.getAttribute("data-bulk-active") || !window.fetch) return;
  var url = holder.getAttribute("data-bulk-status-url");
  var POLL_MS = 1000;

  function update(body) {
    if (body.state === "done" || body.state === "failed") {
      window.location.reload();
      return false;
    }
    var bar = holder.querySelector("progress");
    if (bar) {
      bar.value = body.percent;
      bar.textContent = body.percent + "%";
    }
    var text = holder.querySelector("[data-bulk-text]");
    if (text && body.state === "running") {
      text.textContent = body.done + " of " + body.total +
        (body.kind === "scan" ? " sites queued for scanning" : " lines imported") +
        (body.failed ? ", " + body.failed + " failed." : ".");
    }
    return true;
  }

  window.pollJson(url, POLL_MS, update);
})();

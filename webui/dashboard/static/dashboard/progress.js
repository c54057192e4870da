// Live progress for pages showing queued/running scans: poll the JSON status endpoint, update the
// status cells in place, and reload once nothing is active so the page ends on the finished grades.
(function () {
  "use strict";
  var banner = document.getElementById("progress");
  if (!banner || !window.fetch) return;
  var url = banner.getAttribute("data-status-url");
  var text = banner.querySelector("[data-progress-text]");
  var POLL_MS = 2000;

  function showStatuses(active) {
    document.querySelectorAll("[data-site-status]").forEach(function (cell) {
      var status = active[cell.getAttribute("data-site-status")];
      if (status && cell.textContent !== status) {
        cell.textContent = status;
        cell.className = "status status-" + status;
      }
    });
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (body) {
        if (body.count === 0) {
          window.location.reload();
          return;
        }
        showStatuses(body.active);
        text.textContent = body.count + (body.count === 1 ? " scan" : " scans") +
          " in progress; this page updates by itself.";
        window.setTimeout(poll, POLL_MS);
      })
      .catch(function () {
        // A blip (server restart, network) should not stop the updates; just try again a bit later.
        window.setTimeout(poll, POLL_MS * 3);
      });
  }

  window.setTimeout(poll, POLL_MS);
})();

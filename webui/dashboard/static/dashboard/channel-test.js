// The channels page while a "Send test" is on its way: the worker sends it from the alerts queue, and this
// polls each channel's last test until none is pending, then shows sent or failed (with the reason) in place.
(function () {
  "use strict";
  var table = document.querySelector("[data-test-status-url]");
  if (!table || !window.fetch) return;
  var url = table.getAttribute("data-test-status-url");
  var POLL_MS = 2000;
  var MAX_POLLS = 90; // a test gives up well within three minutes (notify timeout and retries)

  function show(cell, row) {
    cell.textContent = "";
    var label = document.createElement("span");
    if (row.state === "pending") {
      label.className = "muted";
      label.textContent = "sending…";
      cell.appendChild(label);
      return;
    }
    if (row.state === "never") {
      label.className = "muted";
      label.textContent = "never";
      cell.appendChild(label);
      return;
    }
    label.className = row.state === "sent" ? "good" : "bad";
    label.textContent = row.state;
    cell.appendChild(label);
    if (row.error) cell.appendChild(document.createTextNode(": " + row.error));
    if (row.at) {
      var time = document.createElement("time");
      time.className = "muted";
      time.setAttribute("datetime", row.at);
      time.textContent = " " + row.at.slice(0, 16).replace("T", " ");
      cell.appendChild(time);
    }
  }

  function poll(remaining) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) return;
        document.querySelectorAll("[data-channel-test]").forEach(function (cell) {
          var row = body.channels[cell.getAttribute("data-channel-test")];
          if (row) show(cell, row);
        });
        if (body.pending && remaining > 0) setTimeout(function () { poll(remaining - 1); }, POLL_MS);
      })
      .catch(function () {
        if (remaining > 0) setTimeout(function () { poll(remaining - 1); }, POLL_MS);
      });
  }

  setTimeout(function () { poll(MAX_POLLS); }, POLL_MS / 2);
})();

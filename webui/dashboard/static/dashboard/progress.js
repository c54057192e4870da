// Live progress for pages showing queued/running scans. Each row follows its own scan: when that scan ends,
// the row shows its grade (or why it failed) at once, whatever the other rows are doing. The banner counts the
// rows still queued or running, so its number always matches what the table shows.
// A page whose whole content depends on one scan (data-reload-when-done) reloads once that scan ends.
// The summary above a list (#live-summary: triage counts, grade mix) is fetched again whenever a scan ends.
// A row whose scan ended is then redrawn whole from the page itself (data-page-url), so its top issue, SEO,
// web security, expiry and matrix cells come from the same templates as on a reload, never a script's copy;
// blocks marked data-live-block (a portfolio's compliance counts) are taken from that same fetch.
(function () {
  "use strict";
  var banner = document.getElementById("progress");
  if (!banner || !window.fetch) return;
  var url = banner.getAttribute("data-status-url");
  var text = banner.querySelector("[data-progress-text]");
  var reloadWhenDone = banner.hasAttribute("data-reload-when-done");
  var POLL_MS = 2000;
  var ACTIVE = { queued: true, running: true };
  var summary = document.getElementById("live-summary");
  // The number of active scans the page was drawn with: any change since means the summary is out of date.
  var lastCount = parseInt(banner.getAttribute("data-active"), 10);
  var pageUrl = banner.getAttribute("data-page-url");
  // Rows waiting for a redraw; one page fetch at a time serves every row that ended meanwhile.
  var pendingRows = {};
  var redrawing = false;

  function redrawRows() {
    var ids = Object.keys(pendingRows);
    if (!pageUrl || redrawing || !ids.length || !window.DOMParser) return;
    pendingRows = {};
    redrawing = true;
    fetch(pageUrl, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ids.forEach(function (id) {
          var selector = 'tr[data-site-row="' + id + '"]';
          var row = fresh.querySelector(selector);
          var old = document.querySelector(selector);
          if (row && old) old.replaceWith(document.importNode(row, true));
        });
        document.querySelectorAll("[data-live-block]").forEach(function (block) {
          var name = block.getAttribute("data-live-block");
          var twin = fresh.querySelector('[data-live-block="' + name + '"]');
          if (twin) block.replaceWith(document.importNode(twin, true));
        });
      })
      .catch(function () {
        // The grade is already shown; the other cells catch up with the next ended scan or a reload.
      })
      .then(function () {
        redrawing = false;
        redrawRows();
      });
  }

  function refreshSummary() {
    if (!summary) return;
    fetch(summary.getAttribute("data-summary-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        // Server-rendered by the same templates as the page itself (no script in it; the CSP forbids inline ones).
        summary.innerHTML = html;
      })
      .catch(function () {});  // the next ended scan, or a reload, brings the numbers up to date
  }

  function siteIds() {
    var ids = [];
    document.querySelectorAll("[data-site-status]").forEach(function (cell) {
      ids.push(cell.getAttribute("data-site-status"));
    });
    return ids;
  }

  function setStatus(cell, status) {
    if (cell.textContent !== status) {
      cell.textContent = status;
      cell.className = "status status-" + status;
    }
  }

  function setGrade(id, row) {
    var cell = document.querySelector('[data-site-grade="' + id + '"]');
    if (!cell) return;
    cell.textContent = "";
    if (row.grade) {
      var badge = document.createElement("span");
      badge.className = "badge " + row.grade_css;
      badge.textContent = row.grade;
      cell.appendChild(badge);
    }
    if (row.unreachable) {
      var note = document.createElement("span");
      note.className = "bad";
      note.textContent = (row.grade ? " " : "") + "unreachable";
      cell.appendChild(note);
    }
    if (!row.grade && !row.unreachable) {
      var none = document.createElement("span");
      none.className = "muted";
      none.textContent = "none yet";
      cell.appendChild(none);
    }
  }

  function setError(statusCell, message) {
    var holder = statusCell.parentNode;
    var detail = holder.querySelector(".error-detail");
    if (!message) {
      if (detail) detail.remove();
      return;
    }
    if (!detail) {
      detail = document.createElement("span");
      detail.className = "error-detail";
      holder.appendChild(detail);
    }
    detail.textContent = message;
  }

  function update(body) {
    var stillActive = 0;
    document.querySelectorAll("[data-site-status]").forEach(function (cell) {
      var id = cell.getAttribute("data-site-status");
      var row = body.sites && body.sites[id];
      var status = row ? row.status : body.active[id];
      if (!status) return;
      var was = cell.textContent;
      setStatus(cell, status);
      if (ACTIVE[status]) {
        stillActive += 1;
      } else if (row && ACTIVE[was]) {
        setGrade(id, row);
        setError(cell, row.error);
        pendingRows[id] = true;
      }
    });
    return stillActive;
  }

  function poll() {
    var ids = siteIds();
    var query = ids.length ? (url.indexOf("?") < 0 ? "?" : "&") + "sites=" + ids.join(",") : "";
    fetch(url + query, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (body) {
        var onPage = update(body);
        redrawRows();
        if (body.count !== lastCount) refreshSummary();
        lastCount = body.count;
        if (body.count === 0) {
          if (reloadWhenDone) {
            window.location.reload();
          } else {
            banner.remove();
          }
          return;
        }
        var others = body.count - onPage;
        text.textContent = (onPage === 1 ? "1 site" : onPage + " sites") + " on this page " +
          (onPage === 1 ? "is" : "are") + " being scanned" +
          (others > 0 ? " (and " + others + " elsewhere)" : "") + "; each row updates when its scan ends.";
        window.setTimeout(poll, POLL_MS);
      })
      .catch(function () {
        // A blip (server restart, network) should not stop the updates; just try again a bit later.
        window.setTimeout(poll, POLL_MS * 3);
      });
  }

  window.setTimeout(poll, POLL_MS);
})();

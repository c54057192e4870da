// Progress of a portfolio's compliance report built by a worker (large portfolios): polls the report's status
// and, once the file is stored, offers its download in place; a failure shows its reason. Served as a static
// file because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var holder = document.querySelector("[data-evidence-status-url]");
  if (!holder || !window.pollJson || !holder.getAttribute("data-evidence-active") || !window.fetch) return;
  var url = holder.getAttribute("data-evidence-status-url");
  var button = document.querySelector("[data-evidence-button]");
  var POLL_MS = 1500;

  function show(children) {
    holder.textContent = "";
    children.forEach(function (child) { holder.appendChild(child); });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function update(body) {
    if (body.status === "done") {
      var link = element("a", "", "Download the compliance report (PDF)");
      link.href = body.download_url;
      show([link, element("span", "muted", "built just now from the stored scans")]);
      if (button) button.disabled = false;
      return false;
    }
    if (body.status === "failed") {
      show([element("span", "bad", "The compliance report could not be built: " + (body.error || "no reason was recorded"))]);
      if (button) button.disabled = false;
      return false;
    }
    var bar = holder.querySelector("progress");
    if (bar) {
      bar.value = body.progress;
      bar.textContent = body.progress + "%";
    }
    var text = holder.querySelector("[data-evidence-text]");
    if (text) {
      text.textContent = "Building the compliance report: " + body.sites_done + " of " + body.sites_total +
        " sites evaluated.";
    }
    return true;
  }

  window.pollJson(url, POLL_MS, update);
})();

// One way to follow a job a worker does: fetch its JSON status every `intervalMs` and hand it to `update`,
// which returns true while the job is still going. A failed fetch (a server restart, a network blip) is not
// the end of the job, so it waits three intervals and asks again. Used by bulk.js and evidence.js.
window.pollJson = function (url, intervalMs, update) {
  "use strict";
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (body) {
        if (update(body)) window.setTimeout(poll, intervalMs);
      })
      .catch(function () {
        window.setTimeout(poll, intervalMs * 3);
      });
  }
  window.setTimeout(poll, intervalMs);
};

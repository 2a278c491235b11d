// "Forget me" on the privacy page: DELETE /api/v1/events/<code>/me with the CSRF header.
(function () {
  "use strict";
  var button = document.getElementById("forget-me");
  var status = document.getElementById("forget-me-status");
  if (!button || !status) return;
  button.addEventListener("click", function () {
    if (!window.confirm(button.dataset.confirm)) return;
    var token = document.querySelector('meta[name="csrf-token"]').content;
    button.disabled = true;
    fetch("/api/v1/events/" + encodeURIComponent(button.dataset.code) + "/me", {
      method: "DELETE",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      status.textContent = button.dataset.done;
      try {
        // The participant page's own records of "mine" and drafts go too.
        Object.keys(localStorage).forEach(function (key) {
          if (key.indexOf(button.dataset.code) !== -1) localStorage.removeItem(key);
        });
      } catch (e) { /* storage may be unavailable */ }
      // On the participant page, start again as the stranger the server now sees.
      if (button.dataset.reload) window.setTimeout(function () { window.location.reload(); }, 1500);
    }).catch(function () {
      status.textContent = button.dataset.failed;
      button.disabled = false;
    });
  });
})();

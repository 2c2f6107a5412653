// selfreg dashboard: live updates. The server says "refresh" over server-sent events when
// the store changed; the page fetches itself again and swaps its main part and state.
"use strict";
(function () {
  const url = document.body.dataset.live;
  if (!url || !window.EventSource) return;
  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const answer = await fetch(window.location.href, { credentials: "same-origin" });
      if (!answer.ok) return;
      const next = new DOMParser().parseFromString(await answer.text(), "text/html");
      for (const id of ["main", "overall"]) {
        const fresh = next.getElementById(id);
        const here = document.getElementById(id);
        if (fresh && here) here.replaceWith(fresh);
      }
      document.body.dataset.refreshed = String(Date.now());
      if (!next.body.dataset.live) source.close();
    } finally {
      busy = false;
    }
  }
  const source = new EventSource(url);
  source.addEventListener("open", () => { document.body.dataset.connected = "1"; });
  source.addEventListener("refresh", refresh);
})();

// Inventory page: remember the last view for this browser tab, and show times locally.
(function () {
  var KEY = "cp-inventory-view";
  function save(search) {
    try { sessionStorage.setItem(KEY, search); } catch (e) { /* storage disabled: nothing to keep */ }
  }
  function saved() {
    try { return sessionStorage.getItem(KEY); } catch (e) { return null; }
  }

  var params = new URLSearchParams(location.search);
  if (params.has("reset")) {
    save("");
    history.replaceState(null, "", "/inventory");
  } else if (location.search === "") {
    // Coming back to plain /inventory: restore the last view of this tab.
    var last = saved();
    if (last) { location.replace("/inventory" + last); return; }
  } else {
    save(location.search);
  }

  document.addEventListener("htmx:pushedIntoHistory", function () { save(location.search); });
  document.addEventListener("click", function (ev) {
    var reset = ev.target.closest && ev.target.closest("[data-inv-reset]");
    if (reset) save("");
  });

  // The search box asks for the grid as the user types (and on Enter or clearing); its
  // `change` when it loses focus would ask a second time for the same thing, and could
  // race a header click. Selects still announce their changes to the form.
  document.addEventListener("change", function (ev) {
    if (ev.target && ev.target.id === "inv-q") ev.stopPropagation();
  }, true);

  // Times are written by the server in the portal's zone (PORTAL_TIMEZONE), with its
  // abbreviation, so pages, exports and mails agree; the browser does not rewrite them.
})();

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
    var t = ev.target;
    if (t && (t.id === "inv-q" || (t.classList && t.classList.contains("combo-input")))) ev.stopPropagation();
  }, true);

  // Phones: the filters fold into a panel behind the Filters button.
  var form = document.getElementById("inv-form");
  if (form) form.classList.add("filters-collapsible");
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("[data-filters-toggle]");
    if (!btn) return;
    var open = btn.closest("form").classList.toggle("filters-open");
    btn.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // A header click writes its sort into the form at once. A search typed a moment before
  // may still be waiting out its 300 ms delay; when it fires it then carries the new sort
  // instead of replacing the sort request with the old one.
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a.sort[hx-vals]");
    if (!a) return;
    var vals;
    try { vals = JSON.parse(a.getAttribute("hx-vals")); } catch (e) { return; }
    var state = document.getElementById("inv-state");
    if (!state) return;
    ["sort", "dir"].forEach(function (k) {
      var input = state.querySelector("input[name=" + k + "]");
      if (input && typeof vals[k] === "string") input.value = vals[k];
    });
  }, true);

  // "Save view" saves what the grid shows now: the address bar follows every refresh.
  document.addEventListener("submit", function (ev) {
    if (!ev.target || ev.target.id !== "save-view") return;
    var q = ev.target.querySelector("[data-current-view]");
    if (q) q.value = location.search.replace(/^\?/, "");
  }, true);

  // Column headers are buttons (role="button"): Space sorts as Enter does.
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== " " || !ev.target.matches || !ev.target.matches("a.sort[role=button]")) return;
    ev.preventDefault();
    ev.target.click();
  });

  // Part and Bin pickers for long lists: a WAI-ARIA combobox whose listbox htmx fills from
  // /inventory/options as the user types. Typing only narrows the list; choosing an option
  // (Enter or a click) sets the hidden field and refreshes the grid once.
  function combo(el) {
    var box = el && el.closest && el.closest("[data-combo]");
    if (!box) return null;
    return {
      box: box,
      input: box.querySelector(".combo-input"),
      list: box.querySelector(".combo-list"),
      value: box.querySelector("input[type=hidden]")
    };
  }
  function choices(c) {
    return Array.prototype.slice.call(c.list.querySelectorAll("[role=option]:not([aria-disabled=true])"));
  }
  function highlight(c, opt) {
    choices(c).forEach(function (o) { o.classList.toggle("active", o === opt); });
    if (opt) {
      c.input.setAttribute("aria-activedescendant", opt.id);
      if (opt.scrollIntoView) opt.scrollIntoView({ block: "nearest" });
    } else {
      c.input.removeAttribute("aria-activedescendant");
    }
  }
  function highlighted(c) {
    var id = c.input.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }
  function openList(c) {
    if (!c.list.children.length) {
      // Nothing fetched yet: ask, and open when the options arrive.
      c.box.setAttribute("data-want-open", "1");
      if (window.htmx) htmx.trigger(c.input, "combo-open");
      return;
    }
    c.list.hidden = false;
    c.input.setAttribute("aria-expanded", "true");
  }
  function closeList(c) {
    c.list.hidden = true;
    c.box.removeAttribute("data-want-open");
    c.input.setAttribute("aria-expanded", "false");
    highlight(c, null);
  }
  function choose(c, opt) {
    pick(c, opt.getAttribute("data-value") || "");
  }
  function pick(c, v) {
    c.input.value = v;
    c.input.setAttribute("data-value", v);
    closeList(c);
    if (c.value.value !== v) {
      c.value.value = v;
      c.value.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
  document.addEventListener("keydown", function (ev) {
    var c = combo(ev.target);
    if (!c || ev.target !== c.input) return;
    var opts = choices(c), at = opts.indexOf(highlighted(c));
    switch (ev.key) {
      case "ArrowDown":
        ev.preventDefault();
        if (c.list.hidden) { openList(c); if (ev.altKey) return; }
        highlight(c, opts[Math.min(at + 1, opts.length - 1)] || null);
        break;
      case "ArrowUp":
        ev.preventDefault();
        if (c.list.hidden) openList(c);
        highlight(c, opts[at > 0 ? at - 1 : opts.length - 1] || null);
        break;
      case "Enter":
        // Never submits the form: Enter picks the highlighted option, or the only one.
        ev.preventDefault();
        if (!c.list.hidden && highlighted(c)) choose(c, highlighted(c));
        else if (!c.list.hidden && opts.length === 2) choose(c, opts[1]);
        break;
      case "Escape":
        if (!c.list.hidden) {
          ev.preventDefault();
          ev.stopPropagation();
          closeList(c);
        } else {
          c.input.value = c.input.getAttribute("data-value") || "";
        }
        break;
      case "Tab":
        closeList(c);
        break;
    }
  });
  document.addEventListener("input", function (ev) {
    var c = combo(ev.target);
    if (c && ev.target === c.input) c.box.setAttribute("data-want-open", "1");
  });
  document.addEventListener("click", function (ev) {
    var c = combo(ev.target);
    if (c && ev.target === c.input && c.list.hidden) openList(c);
  });
  // mousedown, not click: the text box keeps the focus, so the list does not close first.
  document.addEventListener("mousedown", function (ev) {
    var opt = ev.target.closest && ev.target.closest(".combo-list [role=option]");
    if (!opt) return;
    ev.preventDefault();
    if (opt.getAttribute("aria-disabled") !== "true") choose(combo(opt), opt);
  });
  document.addEventListener("focusout", function (ev) {
    var c = combo(ev.target);
    if (!c || ev.target !== c.input) return;
    if (c.box.contains(ev.relatedTarget)) return;
    closeList(c);
    if (c.input.value.trim() === "" && c.value.value !== "") {
      pick(c, "");
    } else {
      c.input.value = c.input.getAttribute("data-value") || "";
    }
  });
  document.addEventListener("htmx:afterSwap", function (ev) {
    var c = combo(ev.detail && ev.detail.target);
    if (!c || ev.detail.target !== c.list) return;
    highlight(c, null);
    if (document.activeElement === c.input && c.box.hasAttribute("data-want-open")) {
      c.list.hidden = false;
      c.input.setAttribute("aria-expanded", "true");
    }
  });

  // A refresh may replace the filters while one has the focus (their options cascade):
  // the focus goes back to the new copy instead of falling to the page.
  var focusedId = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var a = document.activeElement;
    focusedId = a && a.id && a !== document.body ? a.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusedId) return;
    var a = document.activeElement;
    if (!a || a === document.body) {
      var el = document.getElementById(focusedId);
      if (el) el.focus();
    }
    focusedId = null;
  });

  // Times are written by the server in the portal's zone (PORTAL_TIMEZONE), with its
  // abbreviation, so pages, exports and mails agree; the browser does not rewrite them.
})();

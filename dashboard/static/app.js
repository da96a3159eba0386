// gapspider dashboard: live fetch progress, log panel, confirmations, URL preview. No framework, no CDN.
(function () {
  "use strict";

  // ------------------------------------------------------------ confirmations and one-shot buttons
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      return;
    }
    if (form.hasAttribute("data-once")) {
      var button = form.querySelector("button[type=submit], button:not([type])");
      if (button) {
        if (button.disabled) { event.preventDefault(); return; }
        // Disable after the submit has been taken into account, so the form still posts.
        window.setTimeout(function () {
          button.disabled = true;
          var busy = button.getAttribute("data-busy-label");
          if (busy) { button.querySelector("[data-label]") ? (button.querySelector("[data-label]").textContent = busy) : (button.textContent = busy); }
        }, 0);
      }
    }
  });

  // ------------------------------------------------------------ local times
  function localize(root) {
    (root || document).querySelectorAll("time[datetime][data-local]").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (!isNaN(date)) {
        // The reader's own zone, named, so it never reads as the UTC of folder names and logs.
        var options = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" };
        if (date.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
        el.textContent = date.toLocaleString(undefined, options);
        el.title = date.toISOString();
      }
    });
  }
  localize();

  // Progress widths also set through the CSSOM (works under any CSP).
  document.querySelectorAll(".progress > span[data-width]").forEach(function (bar) {
    bar.style.width = bar.getAttribute("data-width") + "%";
  });

  // ------------------------------------------------------------ durations
  function duration(seconds) {
    if (seconds == null || isNaN(seconds)) return "–";
    seconds = Math.max(0, Math.round(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (h) return h + "h " + String(m).padStart(2, "0") + "m";
    if (m) return m + "m " + String(s).padStart(2, "0") + "s";
    return s + "s";
  }

  // ------------------------------------------------------------ live fetch state
  function counterText(c) {
    var text = c.done.toLocaleString() + " / " + (c.total ? c.total.toLocaleString() : "–");
    return text;
  }

  // ------------------------------------------------------------ scrapyd reachability (topbar dot, banner)
  function applyHealth(health) {
    if (!health || health.ok === null || health.ok === undefined) return;
    document.querySelectorAll("[data-health]").forEach(function (el) {
      var dot = el.querySelector(".dot");
      if (dot) dot.className = "dot " + (health.ok ? "ok" : "bad");
      var text = el.querySelector("[data-health-text]");
      if (text) text.textContent = health.ok ? "online" : "unreachable";
      el.title = health.ok ? "scrapyd answers" : (health.error || "scrapyd is unreachable");
    });
    document.querySelectorAll("[data-health-banner]").forEach(function (el) {
      el.hidden = !!health.ok;
      var message = el.querySelector("[data-health-message]");
      if (message && !health.ok) {
        message.textContent = "Fetch Data cannot start crawls and running fetches cannot be checked: " + (health.error || "scrapyd is unreachable") + ".";
      }
    });
  }

  function apply(container, state) {
    applyHealth(state.scrapyd);
    if (container.hasAttribute("data-status")) container.setAttribute("data-status", state.status);
    container.querySelectorAll("[data-field]").forEach(function (el) {
      var name = el.getAttribute("data-field");
      var value = state[name];
      if (name === "error_message") {
        el.textContent = value || "";
        var box = el.closest("[data-error-box]");
        if (box) box.hidden = !value;
        return;
      }
      if (value !== undefined && value !== null) el.textContent = value;
    });
    container.querySelectorAll("[data-tone]").forEach(function (el) {
      el.className = el.className.replace(/\btone-\w+/g, "").trim() + " tone-" + state.tone;
    });
    container.querySelectorAll("[data-progress]").forEach(function (el) {
      var key = el.getAttribute("data-progress");
      var counter = state.progress[key];
      var percent = key === "overall" ? state.progress.overall : counter.percent;
      var tone = key === "overall" ? (state.tone === "wait" ? "wait" : state.tone) : counter.tone;
      el.className = el.className.replace(/\btone-\w+/g, "").trim() + " tone-" + tone;
      var bar = el.querySelector("span");
      if (bar) bar.style.width = percent + "%";
      el.setAttribute("aria-valuenow", percent);
    });
    container.querySelectorAll("[data-count]").forEach(function (el) {
      var c = state.progress[el.getAttribute("data-count")];
      if (c) el.textContent = counterText(c);
    });
    document.querySelectorAll("[data-total]").forEach(function (el) {
      var c = state.progress[el.getAttribute("data-total")];
      if (c) el.textContent = c.total.toLocaleString();
    });
    document.querySelectorAll("[data-when-some]").forEach(function (el) {
      var c = state.progress[el.getAttribute("data-when-some")];
      if (c) el.hidden = !c.total;
    });
    document.querySelectorAll("[data-when-none]").forEach(function (el) {
      var c = state.progress[el.getAttribute("data-when-none")];
      if (c) el.hidden = !!c.total;
    });
    container.querySelectorAll("[data-failed]").forEach(function (el) {
      var c = state.progress[el.getAttribute("data-failed")];
      if (!c) return;
      el.textContent = c.failed ? c.failed.toLocaleString() + " failed" : "";
      el.hidden = !c.failed;
    });
    container.querySelectorAll("[data-percent]").forEach(function (el) {
      var key = el.getAttribute("data-percent");
      var p = key === "overall" ? state.progress.overall : state.progress[key].percent;
      el.textContent = Math.floor(p) + "%";
    });
    container.querySelectorAll("time[data-time]").forEach(function (el) {
      var value = state[el.getAttribute("data-time")];
      if (value && el.getAttribute("datetime") !== value) {
        el.setAttribute("datetime", value);
        localize(el.parentNode);
      }
    });
    container.querySelectorAll("[data-step]").forEach(function (el) {
      var step = state.steps && state.steps.find(function (s) { return s.status === el.getAttribute("data-step"); });
      if (step) el.setAttribute("data-state", step.state);
    });
  }

  // The dashboard itself stopped answering: say so instead of showing numbers that silently froze.
  function showOffline(on) {
    var el = document.getElementById("offline-toast");
    if (!el && on) {
      el = document.createElement("div");
      el.id = "offline-toast";
      el.className = "toast";
      el.setAttribute("role", "alert");
      el.textContent = "The dashboard does not answer: the numbers on this page may be out of date. Retrying…";
      document.body.appendChild(el);
    }
    if (el) el.hidden = !on;
  }

  function watch(container) {
    var url = container.getAttribute("data-live");
    var interval = parseInt(container.getAttribute("data-interval") || "1500", 10);
    var startedAt = container.getAttribute("data-started-at");
    var elapsedEl = container.querySelector("[data-elapsed]");
    var base = parseFloat(container.getAttribute("data-elapsed-seconds") || "NaN");
    var loadedAt = Date.now();
    // The clock starts with the crawl: no base (queued) means no ticking.
    if (container.getAttribute("data-elapsed-seconds") === "") base = NaN;
    var ticking = window.setInterval(function () {
      if (elapsedEl && !isNaN(base)) elapsedEl.textContent = duration(base + (Date.now() - loadedAt) / 1000);
    }, 1000);
    var failures = 0;
    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
        .then(function (state) {
          failures = 0;
          showOffline(false);
          apply(container, state);
          base = state.elapsed_seconds == null ? NaN : state.elapsed_seconds; loadedAt = Date.now();
          if (elapsedEl && isNaN(base)) elapsedEl.textContent = state.elapsed;
          if (!state.is_active) {
            window.clearInterval(ticking);
            if (elapsedEl) elapsedEl.textContent = state.elapsed;
            // Finished: reload once so results, buttons and history show the final state.
            window.setTimeout(function () { window.location.reload(); }, 400);
            return;
          }
          window.setTimeout(poll, interval);
        })
        .catch(function () {
          failures += 1;
          if (failures >= 2) showOffline(true);
          window.setTimeout(poll, Math.min(15000, interval * (1 + failures)));
        });
    }
    window.setTimeout(poll, interval);
  }
  document.querySelectorAll("[data-live]").forEach(watch);

  // ------------------------------------------------------------ crawl log
  document.querySelectorAll("details[data-log-url]").forEach(function (details) {
    var url = details.getAttribute("data-log-url");
    var pre = details.querySelector("pre");
    var active = details.getAttribute("data-active") === "1";
    var timer = null;
    var retries = 0;
    function load() {
      var retrying = false;
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (r) {
          // scrapyd briefly unreachable (restarting): try again a few times, even for a finished fetch.
          if (!r.ok && retries < 5 && details.open) { retries += 1; retrying = true; timer = window.setTimeout(load, 4000); }
          else if (r.ok) retries = 0;
          return r.text();
        })
        .then(function (text) {
          var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 30;
          pre.textContent = text || "(empty)";
          if (atBottom) pre.scrollTop = pre.scrollHeight;
        })
        .catch(function () { pre.textContent = "The log could not be loaded."; })
        .finally(function () {
          if (!retrying && active && details.open) timer = window.setTimeout(load, 3000);
        });
    }
    details.addEventListener("toggle", function () {
      if (details.open) load(); else if (timer) window.clearTimeout(timer);
    });
    if (details.open) load();
  });

  // ------------------------------------------------------------ page form: derived listing-API URL
  document.querySelectorAll("[data-derive-url]").forEach(function (input) {
    var endpoint = input.getAttribute("data-derive-url");
    var out = document.getElementById(input.getAttribute("data-derive-target"));
    var titleInput = document.getElementById(input.getAttribute("data-title-target"));
    var timer = null;
    var field = input.closest(".field");
    function show() {
      var value = input.value.trim();
      if (!value) { out.hidden = true; return; }
      fetch(endpoint + "?url=" + encodeURIComponent(value), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          out.hidden = false;
          out.textContent = "";
          if (field && input.value.trim() !== input.getAttribute("data-submitted")) {
            // The user changed the URL since the server's verdict: the preview speaks now.
            var old = field.querySelector(".errors");
            if (old) old.remove();
            field.classList.toggle("has-error", !data.ok);
          }
          if (data.ok) {
            out.className = "derived ok";
            var k = document.createElement("span"); k.className = "k"; k.textContent = "Listing API: ";
            var code = document.createElement("code"); code.textContent = data.api_url;
            out.appendChild(k); out.appendChild(code);
            if (titleInput && !titleInput.value) titleInput.placeholder = data.title;
          } else {
            out.className = "derived bad";
            out.textContent = data.error;
          }
        })
        .catch(function () { out.hidden = true; });
    }
    input.addEventListener("input", function () { window.clearTimeout(timer); timer = window.setTimeout(show, 250); });
    if (field && field.classList.contains("has-error")) input.setAttribute("data-submitted", input.value.trim());
    else if (input.value) show();
  });

  document.querySelectorAll("[data-reload]").forEach(function (link) {
    link.addEventListener("click", function (event) { event.preventDefault(); window.location.reload(); });
  });

  // ------------------------------------------------------------ filters submit on change
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();

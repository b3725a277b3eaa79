// Live updates of the tenant log page: poll /logs/feed for the entries written after the
// newest one known, and put them on top. Without this file the page works by reloading.
// Entries are built with textContent only: a description may echo what a caller sent.
"use strict";

(function () {
  const POLL_MS = 2000;
  const RETRY_MS = 5000;
  const MAX_ROWS = 200; // the oldest rows leave the page, so a long demo stays light
  const BREAK_AFTER = /(?<=:\/\/)|(?<=\|)/; // as BREAK_AFTER in views/logs.py

  const list = document.getElementById("entries");
  if (!list || !list.dataset.feed) return; // an older page, or a search the server refused

  const live = document.getElementById("live");
  const state = document.getElementById("live-state");
  const toggle = document.getElementById("live-toggle");
  const count = document.getElementById("log-count");
  const shown = new Set(Array.from(list.querySelectorAll("li[data-log-id]"), (li) => li.dataset.logId));
  let after = list.dataset.after || null;
  let paused = false;
  let inFlight = false;
  let timer = null;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function breakable(node, value) {
    if (value) value.split(BREAK_AFTER).forEach((part) => node.append(element("span", "part", part)));
    return node;
  }

  // Keys sorted at every level, as the server's json.dumps(sort_keys=True) prints them.
  function sorted(value) {
    if (Array.isArray(value)) return value.map(sorted);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sorted(value[key])]));
    }
    return value;
  }

  // The same markup as the loop in templates/logs.html.
  function render(entry) {
    const stamp = element("time");
    stamp.dateTime = entry.date;
    stamp.append(element("b", null, entry.date.slice(11, 19)), " ", element("small", null, entry.date.slice(0, 10)));
    const time = element("span", "time");
    time.append(stamp);
    const event = element("span", "event");
    event.append(element("code", "type", entry.type), " ", element("span", "description", entry.description));
    const client = element("span", "client", entry.client_id || "");
    client.title = entry.client_name || "";
    const summary = element("summary", "row");
    summary.append(
      time,
      event,
      client,
      breakable(element("span", "audience"), entry.audience),
      breakable(element("span", "user"), entry.user_id),
    );
    const details = element("details", "entry");
    details.append(summary, element("pre", "raw", JSON.stringify(sorted(entry), null, 2)));
    const item = element("li", "arrived");
    item.dataset.logId = entry.log_id;
    item.append(details);
    return item;
  }

  function setCount(n) {
    count.dataset.count = String(n);
    // "more than N" (the page counts up to a bound) stays a lower bound as entries arrive.
    const prefix = count.dataset.capped ? "more than " : "";
    count.textContent = prefix + n + (n === 1 && !prefix ? " entry" : " entries");
  }

  function emptyList() {
    shown.clear();
    list.replaceChildren(element("li", "empty", "No entries match."));
    delete count.dataset.capped; // counted from nothing again
    setCount(0);
  }

  function show(mode, text) {
    live.className = "live " + mode;
    state.textContent = text;
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function add(entries) {
    const fresh = entries.filter((entry) => !shown.has(entry.log_id));
    if (!fresh.length) return;
    const rows = document.createDocumentFragment();
    fresh.forEach((entry) => {
      shown.add(entry.log_id);
      rows.append(render(entry)); // newest first, as the feed answers
    });
    list.querySelector(".empty")?.remove();
    list.prepend(rows);
    setCount(Number(count.dataset.count) + fresh.length);
    while (list.children.length > MAX_ROWS) {
      shown.delete(list.lastElementChild.dataset.logId);
      list.lastElementChild.remove();
    }
  }

  async function poll() {
    timer = null;
    if (paused || inFlight) return;
    inFlight = true;
    const url = list.dataset.feed + (after ? "&after=" + encodeURIComponent(after) : "");
    let body = null;
    try {
      const response = await fetch(url, { cache: "no-store", headers: { Accept: "application/json" } });
      body = await response.json();
      if (!response.ok) throw new Error(body.message || String(response.status));
    } catch (error) {
      body = null;
      show("offline", "Offline, retrying");
    } finally {
      inFlight = false;
    }
    if (paused) return; // resuming asks again from the same entry: nothing is lost
    if (!body) {
      schedule(RETRY_MS);
      return;
    }
    if (body.cleared) {
      emptyList(); // the log was cleared: what is shown no longer exists
      after = null;
    }
    if (body.entries.length) {
      add(body.entries);
      after = body.entries[0].log_id;
    }
    show("running", "Live");
    schedule(body.more ? 0 : POLL_MS);
  }

  toggle.addEventListener("click", () => {
    paused = !paused;
    toggle.textContent = paused ? "Resume" : "Pause";
    if (paused) {
      clearTimeout(timer);
      show("paused", "Paused");
    } else {
      show("running", "Live");
      schedule(0);
    }
  });

  document.getElementById("static-note").hidden = true;
  live.hidden = false;
  show("running", "Live");
  schedule(POLL_MS);
})();

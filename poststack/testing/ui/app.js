// The sandbox's web inbox: the list, search, live updates and the controls.
//
// Theory of operation
// -------------------
// The list mirrors GET /_sandbox/messages for the current search, newest
// first. Server-sent events from /_sandbox/stream keep it current: with no
// search active, a new email is put at the top and an update replaces its row
// in place; with a search active, any event asks the server again, so what
// matches is always the server's answer, never a guess made here.
//
// Asking the server is `sync()`. Only one runs at a time: an event or a new
// search that comes while one is in flight marks the list dirty, and the sync
// goes round once more when its answer is in, asking for one more row for each
// email that arrived meanwhile. So no event is lost between a fetch and the
// stream, and an older answer never overwrites a newer one.
// Each (re)connection of the stream syncs too, which covers whatever happened
// while it was down.
//
// The location hash holds the open email and the search
// (#id=em_…&search=tag%3Awelcome), so a reload or a shared link opens the same
// view, and the browser's Back button closes an email on a phone.

import * as api from "./api.js";
import { DetailView, avatar, statusBadge } from "./detail.js";
import { h, icon, replaceChildren } from "./dom.js";
import {
  STATUSES,
  displayName,
  fullDate,
  plural,
  shortDate,
  statusLabel,
  tagText,
} from "./format.js";
import { formatSearch, isFiltered, parseSearch, withFilter } from "./search.js";

const PAGE = 50;
const MAX_LIMIT = 500; // the most rows one sync asks for (the rows shown after "load older")
const SEARCH_DELAY_MS = 200;
const TOAST_MS = 4000;
const RECONNECT_MAX_MS = 10_000;
const TITLE = "Inbox · PostStack Sandbox";

const $ = (selector) => document.querySelector(selector);

const els = {
  body: document.body,
  search: $("#search"),
  searchForm: $("#search-form"),
  status: $("#status-filter"),
  list: $("#messages"),
  listPane: $(".list-pane"),
  listCount: $("#list-count"),
  listEmpty: $("#list-empty"),
  more: $("#more-button"),
  detail: $("#detail"),
  live: $("#live"),
  liveText: $("#live .live-text"),
  toasts: $("#toasts"),
  clearButton: $("#clear-button"),
  confirm: $("#confirm-dialog"),
  faultsButton: $("#faults-button"),
  faultsCount: $("#faults-count"),
  faults: $("#faults-dialog"),
  faultsForm: $("#faults-form"),
  faultsError: $("#faults-error"),
  faultsClear: $("#faults-clear"),
  pendingList: $("#pending-list"),
  pendingEmpty: $("#pending-empty"),
  clockButton: $("#clock-button"),
  clock: $("#clock-dialog"),
  clockNow: $("#clock-now"),
  clockMode: $("#clock-mode"),
  clockError: $("#clock-error"),
};

const state = {
  items: [], // summaries, newest first
  total: 0,
  selectedId: null,
  fresh: new Set(), // ids that arrived live and were not opened yet
  syncing: false,
  dirty: false,
  arrivals: 0, // emails that arrived since the list was last set from the server's answer
  resetPage: false,
  loadingMore: false,
  loaded: false,
};

// --- small helpers ---------------------------------------------------------------------------

function toast(text, kind = "info") {
  const node = h("div", { class: `toast ${kind}` }, text);
  els.toasts.append(node);
  setTimeout(() => node.remove(), TOAST_MS);
}

function filters() {
  return parseSearch(els.search.value);
}

function hashFor(id, search = els.search.value) {
  const params = new URLSearchParams();
  if (id) params.set("id", id);
  if (search.trim()) params.set("search", search.trim());
  const text = params.toString();
  return text ? `#${text}` : "#";
}

function readHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  return { id: params.get("id"), search: params.get("search") ?? "" };
}

function updateTitle() {
  document.title = state.fresh.size ? `(${state.fresh.size}) ${TITLE}` : TITLE;
}

// --- the list --------------------------------------------------------------------------------

function row(summary) {
  const fresh = state.fresh.has(summary.id);
  const selected = summary.id === state.selectedId;
  const tags = summary.tags ?? [];
  const recipients = [...(summary.to ?? []), ...(summary.cc ?? [])].map(displayName);
  return h(
    "li",
    { class: `row${fresh ? " fresh" : ""}`, "data-id": summary.id, "data-status": summary.status },
    h(
      "a",
      {
        class: "row-link",
        href: hashFor(summary.id),
        "aria-current": selected ? "true" : null,
        // One sentence for a screen reader instead of the row's pieces read one by one.
        "aria-label": [
          `${fresh ? "New: " : ""}${summary.subject || "(no subject)"}`,
          `from ${displayName(summary.from)}`,
          statusLabel(summary.status),
          fullDate(summary.created_at),
        ].join(", "),
      },
      avatar(summary.from),
      h(
        "div",
        { class: "row-main" },
        h(
          "div",
          { class: "row-top" },
          h("span", { class: "row-from" }, displayName(summary.from)),
          summary.attachment_count
            ? icon("clip", plural(summary.attachment_count, "attachment"))
            : "",
          h(
            "time",
            {
              class: "row-date",
              datetime: summary.created_at,
              title: fullDate(summary.created_at),
            },
            shortDate(summary.created_at),
          ),
        ),
        h("div", { class: "row-subject" }, summary.subject || "(no subject)"),
        h(
          "div",
          { class: "row-bottom" },
          statusBadge(summary.status),
          h("span", { class: "row-to" }, recipients.length ? `to ${recipients.join(", ")}` : ""),
          tags.slice(0, 2).map((tag) => h("span", { class: "chip small" }, tagText(tag))),
          tags.length > 2 ? h("span", { class: "chip small more" }, `+${tags.length - 2}`) : "",
        ),
      ),
    ),
  );
}

function renderList() {
  const focusedId = els.list.contains(document.activeElement)
    ? document.activeElement.closest(".row")?.dataset.id
    : null;
  replaceChildren(els.list, state.items.map(row));
  if (focusedId) els.list.querySelector(`.row[data-id="${CSS.escape(focusedId)}"] a`)?.focus();
  renderListChrome();
}

function renderListChrome() {
  const active = isFiltered(filters());
  els.listCount.textContent = state.loaded
    ? active
      ? `${state.total} found`
      : plural(state.total, "email")
    : "";
  els.more.hidden = state.items.length >= state.total;
  if (!state.selectedId && state.loaded) {
    if (state.total === 0 && !active) detail.welcome(location.origin);
    else if (detail.mode === "welcome") detail.empty();
  }
  els.listEmpty.hidden = !state.loaded || state.items.length > 0;
  if (!els.listEmpty.hidden) {
    replaceChildren(els.listEmpty, active ? emptySearch() : emptyInbox());
  }
  updateTitle();
}

function emptyInbox() {
  return [
    icon("mail"),
    h("p", { class: "empty-title" }, "No emails yet"),
    h("p", {}, "Point your app at this sandbox and send one; it appears here at once."),
    h("pre", { class: "code snippet" }, `POSTSTACK_BASE_URL=${location.origin}`),
  ];
}

function emptySearch() {
  return [
    icon("search"),
    h("p", { class: "empty-title" }, "No emails match"),
    h("p", {}, h("code", {}, els.search.value.trim())),
    h(
      "button",
      { type: "button", class: "button subtle small", onclick: () => setSearch("") },
      "Clear the search",
    ),
  ];
}

function setItems(messages, total) {
  state.items = dedupe(messages);
  state.total = Math.max(total ?? 0, state.items.length);
  state.loaded = true;
  renderList();
}

function dedupe(messages) {
  const seen = new Set();
  return messages.filter((m) => !seen.has(m.id) && seen.add(m.id));
}

/** Ask the server for the list as the search stands now (see the theory of operation). */
async function sync() {
  if (state.syncing) {
    state.dirty = true;
    return;
  }
  state.syncing = true;
  try {
    do {
      state.dirty = false;
      const asked = filters();
      // What is shown stays shown, and every email that arrived since is added on top:
      // 55 arriving while the first answer is on its way show as 55, not the newest 50.
      const shown = state.resetPage ? PAGE : Math.max(PAGE, state.items.length);
      const limit = Math.min(MAX_LIMIT, shown + state.arrivals);
      state.resetPage = false;
      const result = await api.listMessages(asked, { limit, offset: 0 });
      // A search typed while this answer was on its way makes it stale: go round again.
      if (formatSearch(asked) !== formatSearch(filters())) state.dirty = true;
      if (!state.dirty) {
        state.arrivals = 0;
        setItems(result.messages ?? [], result.total);
      }
    } while (state.dirty);
  } catch (error) {
    showListError(error);
  } finally {
    state.syncing = false;
  }
}

function showListError(error) {
  state.loaded = true;
  els.listCount.textContent = "";
  if (state.items.length) {
    toast(error.message, "error");
    return;
  }
  els.listEmpty.hidden = false;
  replaceChildren(
    els.listEmpty,
    icon("inbox"),
    h("p", { class: "empty-title" }, "Cannot load the inbox"),
    h("p", { role: "alert" }, error.message),
    h(
      "button",
      { type: "button", class: "button subtle small", onclick: () => sync() },
      "Try again",
    ),
  );
}

async function loadMore() {
  if (state.loadingMore) return;
  state.loadingMore = true;
  els.more.disabled = true;
  try {
    const result = await api.listMessages(filters(), { limit: PAGE, offset: state.items.length });
    state.items = dedupe([...state.items, ...(result.messages ?? [])]);
    state.total = Math.max(result.total ?? 0, state.items.length);
    renderList();
  } catch (error) {
    toast(error.message, "error");
  } finally {
    state.loadingMore = false;
    els.more.disabled = false;
  }
}

// --- live updates ----------------------------------------------------------------------------

function onArrived(summary) {
  state.fresh.add(summary.id);
  if (state.syncing || isFiltered(filters())) {
    state.arrivals += 1;
    updateTitle();
    sync();
    return;
  }
  if (state.items.some((m) => m.id === summary.id)) return;
  // One new row at the top: cheap even when a bulk send streams in thousands.
  state.items.unshift(summary);
  state.total += 1;
  els.list.prepend(row(summary));
  if (state.items.length > MAX_LIMIT) {
    // The oldest rows go (they are one "load older" away): the page stays light.
    state.items.length = MAX_LIMIT;
    while (els.list.children.length > MAX_LIMIT) els.list.lastElementChild.remove();
  }
  renderListChrome();
}

function onUpdated(summary) {
  if (summary.id === state.selectedId) loadDetail(summary.id);
  if (state.syncing || isFiltered(filters())) {
    sync();
    return;
  }
  const index = state.items.findIndex((m) => m.id === summary.id);
  if (index === -1) return; // not on the loaded pages
  state.items[index] = summary;
  redrawRow(summary);
}

/** Draw one row again (a new status, or read now), keeping the focus if it was on it. */
function redrawRow(summary) {
  const old = els.list.querySelector(`.row[data-id="${CSS.escape(summary.id)}"]`);
  if (!old) return;
  const hadFocus = old.contains(document.activeElement);
  const replacement = row(summary);
  old.replaceWith(replacement);
  if (hadFocus) replacement.querySelector("a").focus();
}

function onCleared() {
  state.items = [];
  state.total = 0;
  state.fresh.clear();
  state.loaded = true;
  renderList();
  if (state.selectedId) {
    state.selectedId = null;
    history.replaceState(null, "", hashFor(null));
    els.body.dataset.view = "list";
    detail.empty("The inbox was cleared.");
  }
  sync(); // anything that arrived right after the clear
}

function setLive(stateName, text) {
  els.live.dataset.state = stateName;
  els.liveText.textContent = text;
}

let stream = null;
let reconnectDelay = 1000;

function connect() {
  stream = new EventSource(api.urls.stream);
  const handle = (fn) => (event) => {
    let data = null;
    try {
      data = event.data ? JSON.parse(event.data) : null;
    } catch {
      return;
    }
    fn(data);
    refreshFaultCount();
  };
  stream.addEventListener(
    "message",
    handle((summary) => summary && onArrived(summary)),
  );
  stream.addEventListener(
    "update",
    handle((summary) => summary && onUpdated(summary)),
  );
  stream.addEventListener(
    "clear",
    handle(() => onCleared()),
  );
  stream.addEventListener("open", () => {
    reconnectDelay = 1000;
    setLive("live", "Live");
    sync();
    if (state.selectedId) loadDetail(state.selectedId);
  });
  stream.addEventListener("error", () => {
    if (stream.readyState === EventSource.CLOSED) {
      // The browser gave up (the sandbox answered with an error): try again later ourselves.
      setLive("offline", "Offline");
      stream.close();
      setTimeout(connect, reconnectDelay);
      reconnectDelay = Math.min(RECONNECT_MAX_MS, reconnectDelay * 2);
    } else {
      setLive("connecting", "Reconnecting…");
    }
  });
}

// --- the open email --------------------------------------------------------------------------

let detailSeq = 0;

const detail = new DetailView(els.detail, {
  onBack: () => {
    location.hash = hashFor(null);
  },
  onTag: (tag) => setSearch(withFilter(els.search.value, "tag", tag)),
  onFrom: (address) => setSearch(withFilter(els.search.value, "from", address)),
  onAction: async (id, action) => {
    try {
      if (action === "complain") {
        await api.complain(id);
        toast("Complaint recorded: its webhooks are on their way");
      } else {
        await api.bounce(id, action);
        toast(
          `${action === "soft" ? "Soft" : "Hard"} bounce recorded: its webhooks are on their way`,
        );
      }
      await loadDetail(id);
    } catch (error) {
      toast(error.message, "error");
    }
  },
  toast,
});

/** Fetch and show one email; an answer that a later request overtook is dropped. */
async function loadDetail(id) {
  const seq = ++detailSeq;
  if (detail.id !== id) detail.notice("Loading…");
  try {
    const message = await api.getMessage(id);
    if (seq !== detailSeq || state.selectedId !== id) return;
    const opening = detail.id !== id;
    detail.show(message);
    // On a phone the list just went away with the focus in it: move to the email.
    if (opening && getComputedStyle(els.listPane).display === "none") els.detail.focus();
  } catch (error) {
    if (seq !== detailSeq || state.selectedId !== id) return;
    if (error.status === 404) detail.notice("This email is no longer in the inbox.");
    else detail.notice(error.message, { error: true });
  }
}

function route() {
  const { id, search } = readHash();
  const previous = state.selectedId;
  state.selectedId = id;
  if (search !== els.search.value.trim()) {
    els.search.value = search;
    onSearchChanged({ updateHash: false });
  }
  els.body.dataset.view = id ? "detail" : "list";
  for (const link of els.list.querySelectorAll(".row-link")) {
    const selected = link.closest(".row").dataset.id === id;
    if (selected) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
  if (!id) {
    // Focus goes back to the email's row if it was in the email (or nowhere), never away
    // from where the user has moved it since: "/" right after Escape keeps the search box.
    const active = document.activeElement;
    const inEmail = !active || active === document.body || els.detail.contains(active);
    detail.empty();
    if (previous && inEmail) {
      els.list.querySelector(`.row[data-id="${CSS.escape(previous)}"] a`)?.focus();
    }
    return;
  }
  if (state.fresh.delete(id)) {
    const summary = state.items.find((m) => m.id === id);
    if (summary) redrawRow(summary);
    updateTitle();
  }
  if (id !== previous) loadDetail(id);
}

// --- search ----------------------------------------------------------------------------------

let searchTimer = null;

function onSearchChanged({ updateHash = true } = {}) {
  clearTimeout(searchTimer);
  const status = filters().status ?? "";
  els.status.value = [...els.status.options].some((o) => o.value === status) ? status : "";
  if (updateHash) history.replaceState(null, "", hashFor(state.selectedId));
  state.resetPage = true;
  sync();
}

function setSearch(text) {
  els.search.value = text;
  onSearchChanged();
}

// --- controls: clear, faults, clock ----------------------------------------------------------

async function confirmClear() {
  els.confirm.returnValue = "";
  els.confirm.showModal();
  els.confirm.addEventListener(
    "close",
    async () => {
      if (els.confirm.returnValue !== "confirm") return;
      try {
        await api.clearInbox();
        onCleared();
        toast("Inbox cleared");
      } catch (error) {
        toast(error.message, "error");
      }
    },
    { once: true },
  );
}

/** The form's fields as one fault of the sandbox's fault plan (see POST /_sandbox/faults). */
function faultFromForm(form) {
  const data = new FormData(form);
  const kind = String(data.get("kind"));
  const number = (name) => {
    const text = String(data.get(name) ?? "").trim();
    return text === "" ? null : Number(text);
  };
  const fault = {};
  if (kind === "reset") fault.reset = true;
  else if (kind !== "delay") fault.status = Number(kind);
  const count = number("count");
  if (!Number.isInteger(count) || count < 1)
    throw new Error("“For the next” needs a whole number of requests, at least 1.");
  fault.count = count;
  const delay = number("delay");
  if (delay !== null) {
    if (!Number.isFinite(delay) || delay < 0)
      throw new Error("The delay is a number of seconds, 0 or more.");
    if (delay > 0) fault.delay = delay;
  }
  if (kind === "delay" && !fault.delay)
    throw new Error("A slow answer needs a delay of more than 0 seconds.");
  const retryAfter = number("retry_after");
  if (retryAfter !== null && fault.status !== undefined) {
    if (!Number.isFinite(retryAfter) || retryAfter < 0)
      throw new Error("Retry-After is a number of seconds, 0 or more.");
    fault.retry_after = retryAfter;
  }
  const method = String(data.get("method") ?? "");
  if (method) fault.method = method;
  const path = String(data.get("path") ?? "").trim();
  if (path) {
    if (!path.startsWith("/"))
      throw new Error("The path starts with /, for example /emails or /emails/*.");
    fault.path = path;
  }
  if (data.get("process") && kind !== "delay") fault.process = true;
  return fault;
}

function describeFault(fault) {
  const what = fault.reset
    ? "Connection reset"
    : fault.status
      ? `${fault.status}${fault.retry_after !== undefined && fault.retry_after !== null ? ` · Retry-After ${fault.retry_after} s` : ""}`
      : "Slow answer";
  const where = `${fault.method ?? "any method"} ${fault.path ?? "any path"}`;
  const extras = [
    fault.delay ? `after ${fault.delay} s` : "",
    fault.process ? "request handled, response lost" : "",
  ].filter(Boolean);
  return { what, where, extras };
}

/** The armed faults of a GET/POST/DELETE /_sandbox/faults answer: [{fault, remaining}]. */
function pendingFaults(answer) {
  const list = answer?.faults;
  return Array.isArray(list) ? list : [];
}

function renderFaults(answer) {
  const faults = pendingFaults(answer);
  replaceChildren(
    els.pendingList,
    faults.map(({ fault, remaining }) => {
      const { what, where, extras } = describeFault(fault);
      return h(
        "li",
        { class: "pending-item" },
        h("span", { class: "badge warn" }, what),
        h("span", { class: "pending-where" }, where),
        extras.length ? h("span", { class: "muted" }, extras.join(", ")) : "",
        h(
          "span",
          { class: "pending-count" },
          remaining === null || remaining === undefined
            ? "until disarmed"
            : `${plural(remaining, "request")} left`,
        ),
      );
    }),
  );
  els.pendingEmpty.hidden = faults.length > 0;
  els.faultsClear.disabled = faults.length === 0;
  showFaultCount(faults.length);
}

function showFaultCount(count) {
  els.faultsCount.hidden = count === 0;
  els.faultsCount.textContent = String(count);
  els.faultsButton.setAttribute("aria-label", count ? `Faults, ${count} armed` : "Faults");
  if (count > 0) refreshFaultCount(FAULT_POLL_MS);
}

async function refreshFaults() {
  try {
    renderFaults(await api.getFaults());
  } catch (error) {
    showError(els.faultsError, error.message);
  }
}

const FAULT_POLL_MS = 1500;
let faultCountTimer = null;

/**
 * Recount the armed faults soon. API requests use them up without the page
 * seeing those requests, so this runs after every inbox event and, while any
 * fault is armed, every FAULT_POLL_MS.
 */
function refreshFaultCount(delay = 250) {
  if (faultCountTimer) return;
  faultCountTimer = setTimeout(async () => {
    faultCountTimer = null;
    try {
      const answer = await api.getFaults();
      if (els.faults.open) renderFaults(answer);
      else showFaultCount(pendingFaults(answer).length);
    } catch {
      // The count is a hint; the dialog shows the error when opened.
    }
  }, delay);
}

function showError(node, text) {
  node.hidden = !text;
  node.textContent = text ?? "";
}

async function armFault(event) {
  event.preventDefault();
  showError(els.faultsError, "");
  let fault;
  try {
    fault = faultFromForm(els.faultsForm);
  } catch (error) {
    showError(els.faultsError, error.message);
    return;
  }
  try {
    renderFaults(await api.addFaults({ faults: [fault] }));
    toast(`Fault armed for the next ${plural(fault.count, "request")}`);
  } catch (error) {
    showError(els.faultsError, error.message);
  }
}

async function disarmFaults() {
  try {
    renderFaults(await api.clearFaults());
    toast("Faults disarmed");
  } catch (error) {
    showError(els.faultsError, error.message);
  }
}

function syncFaultForm() {
  const kind = els.faultsForm.elements.kind.value;
  const retry = els.faultsForm.querySelector('[data-for="status"]');
  const lossy = els.faultsForm.querySelector('[data-for="lossy"]');
  retry.hidden = kind === "reset" || kind === "delay";
  lossy.hidden = kind === "delay";
}

function showClock(clock) {
  els.clockNow.value = fullDate(clock.now);
  els.clockNow.textContent = fullDate(clock.now);
  els.clockNow.setAttribute("title", clock.now);
  els.clockMode.textContent = clock.frozen ? "Frozen" : "Running";
  els.clockMode.className = `badge ${clock.frozen ? "info" : "good"}`;
}

async function openClock() {
  showError(els.clockError, "");
  els.clock.showModal();
  try {
    showClock(await api.getClock());
  } catch (error) {
    showError(els.clockError, error.message);
  }
}

async function advance(seconds) {
  showError(els.clockError, "");
  try {
    showClock(await api.advanceClock(seconds));
    const clock = await api.getClock();
    showClock(clock);
  } catch (error) {
    showError(els.clockError, error.message);
  }
}

// --- keyboard --------------------------------------------------------------------------------

function typing(target) {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName))
  );
}

function moveInList(step) {
  const links = [...els.list.querySelectorAll(".row-link")];
  if (!links.length) return;
  const current = links.indexOf(document.activeElement.closest?.(".row-link"));
  const selected = links.findIndex((link) => link.getAttribute("aria-current") === "true");
  const from = current !== -1 ? current : selected;
  const next = links[Math.max(0, Math.min(links.length - 1, from === -1 ? 0 : from + step))];
  next.focus();
}

function onKey(event) {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
  if (typing(event.target) || document.querySelector("dialog[open]")) return;
  if (event.key === "/") {
    event.preventDefault();
    els.search.focus();
    els.search.select();
  } else if (event.key === "j" || (event.key === "ArrowDown" && els.list.contains(event.target))) {
    event.preventDefault();
    moveInList(1);
  } else if (event.key === "k" || (event.key === "ArrowUp" && els.list.contains(event.target))) {
    event.preventDefault();
    moveInList(-1);
  } else if (event.key === "Escape" && state.selectedId) {
    location.hash = hashFor(null);
  }
}

// --- wiring ----------------------------------------------------------------------------------

/** The search box's hint: the syntax where there is room for it, one word on a phone. */
function fitPlaceholder(narrow) {
  els.search.placeholder = narrow.matches ? "Search" : "Search — try from:ada tag:welcome";
}

function init() {
  for (const [value, label] of STATUSES) els.status.append(h("option", { value }, label));
  const narrow = matchMedia("(max-width: 760px)");
  fitPlaceholder(narrow);
  narrow.addEventListener("change", () => fitPlaceholder(narrow));
  const { search } = readHash();
  els.search.value = search;
  const status = filters().status ?? "";
  els.status.value = [...els.status.options].some((o) => o.value === status) ? status : "";

  els.search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => onSearchChanged(), SEARCH_DELAY_MS);
  });
  els.searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    onSearchChanged();
  });
  els.status.addEventListener("change", () =>
    setSearch(withFilter(els.search.value, "status", els.status.value)),
  );
  // A row's link opens its email with the search as it is now (the href may be older).
  els.list.addEventListener("click", (event) => {
    const link = event.target.closest?.(".row-link");
    if (
      !link ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    event.preventDefault();
    const target = hashFor(link.closest(".row").dataset.id);
    if (location.hash !== target) location.hash = target;
  });
  els.more.addEventListener("click", loadMore);
  els.clearButton.addEventListener("click", confirmClear);
  els.faultsButton.addEventListener("click", () => {
    showError(els.faultsError, "");
    syncFaultForm();
    els.faults.showModal();
    refreshFaults();
  });
  els.faultsForm.addEventListener("submit", armFault);
  els.faultsForm.elements.kind.addEventListener("change", syncFaultForm);
  els.faultsClear.addEventListener("click", disarmFaults);
  els.clockButton.addEventListener("click", openClock);
  for (const button of els.clock.querySelectorAll("[data-seconds]")) {
    button.addEventListener("click", () => advance(Number(button.dataset.seconds)));
  }
  for (const button of document.querySelectorAll("dialog [data-close]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
  window.addEventListener("hashchange", route);
  document.addEventListener("keydown", onKey);

  route();
  sync();
  connect();
  refreshFaultCount();
}

init();

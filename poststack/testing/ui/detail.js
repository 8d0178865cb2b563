// The reading pane: one email with its bodies, headers, request, attachments and timeline.
//
// DetailView keeps what the reader chose (the tab, the preview width, the
// source toggle) across emails. When the open email changes under it (a live
// update: a new status, an event, a webhook delivery), only the parts that can
// change are redrawn, so the HTML preview never reloads and nothing jumps.

import { urls } from "./api.js";
import { h, icon, replaceChildren } from "./dom.js";
import {
  displayName,
  eventLabel,
  fileSize,
  fullDate,
  parseAddress,
  plural,
  preciseTime,
  shortDate,
  statusLabel,
  statusTone,
  tagName,
  tagText,
} from "./format.js";

const TABS = [
  ["html", "HTML"],
  ["text", "Text"],
  ["headers", "Headers"],
  ["request", "Request"],
  ["attachments", "Attachments"],
  ["timeline", "Timeline"],
];

// A request body larger than this is shown cut short until the reader asks for all of it:
// base64 attachments can make it megabytes long, and a <pre> that size makes the page crawl.
const BODY_PREVIEW_CHARS = 200_000;

// Emails whose status is final: a bounce or a complaint no longer applies to them.
const NOT_DELIVERED = new Set(["scheduled", "cancelled", "failed"]);

export function statusBadge(status) {
  return h(
    "span",
    { class: `badge ${statusTone(status)}`, "data-status": status },
    statusLabel(status),
  );
}

/** Tags as chips; each one filters the list by that tag when clicked. */
export function tagChips(tags, onTag) {
  return (tags ?? []).map((tag) =>
    onTag
      ? h(
          "button",
          {
            type: "button",
            class: "chip",
            title: `Show emails tagged ${tagName(tag)}`,
            onclick: () => onTag(tagName(tag)),
          },
          tagText(tag),
        )
      : h("span", { class: "chip" }, tagText(tag)),
  );
}

/** A round avatar with initials, its colour picked from the address so it stays the same. */
export function avatar(from) {
  const { name, address } = parseAddress(from);
  const source = name || address.split("@")[0] || "?";
  const words = source.split(/[\s._-]+/).filter(Boolean);
  const initials = (
    words.length > 1 ? words[0][0] + words[1][0] : source.slice(0, 2)
  ).toUpperCase();
  let hash = 0;
  for (const char of address.toLowerCase()) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return h("span", { class: `avatar tone-${hash % 8}`, "aria-hidden": "true" }, initials);
}

function copyButton(label, getText, toast) {
  return h(
    "button",
    {
      type: "button",
      class: "button subtle small",
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(getText());
          toast(`${label} copied`);
        } catch {
          toast("The browser did not allow copying", "error");
        }
      },
    },
    icon("copy"),
    h("span", {}, "Copy"),
  );
}

function keyValueTable(entries, caption, emptyText) {
  if (!entries.length) return h("p", { class: "muted" }, emptyText);
  return h(
    "table",
    { class: "kv" },
    h("caption", { class: "visually-hidden" }, caption),
    h(
      "tbody",
      {},
      entries.map(([key, value]) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, key),
          h("td", {}, typeof value === "string" ? value : JSON.stringify(value)),
        ),
      ),
    ),
  );
}

function addressList(values) {
  return (values ?? []).map((value, index) => {
    const { name, address } = parseAddress(value);
    return h(
      "span",
      { class: "address" },
      name
        ? [
            h("span", { class: "address-name" }, name),
            " ",
            h("span", { class: "address-mail" }, `<${address}>`),
          ]
        : address,
      index < values.length - 1 ? ", " : "",
    );
  });
}

/**
 * Pair each webhook delivery with the event that caused it.
 *
 * A delivery is one event sent to one webhook (however many attempts it took,
 * which `attempt` counts), and it names the event's type, not the event. Each
 * webhook gets the events of one type in the order they happened, so the k-th
 * delivery of a type to a webhook belongs to the k-th event of that type. A
 * delivery that carries `event_index` says which event it belongs to itself.
 * Deliveries whose event is not listed come back unpaired.
 */
export function pairDeliveries(events, deliveries) {
  const byEvent = events.map(() => []);
  const unpaired = [];
  const eventsOfType = new Map();
  events.forEach((event, index) => {
    const type = normaliseType(event.type);
    if (!eventsOfType.has(type)) eventsOfType.set(type, []);
    eventsOfType.get(type).push(index);
  });
  const seen = new Map(); // `${webhook}|${type}` -> deliveries of that type to that webhook so far
  for (const delivery of deliveries) {
    if (Number.isInteger(delivery.event_index) && byEvent[delivery.event_index]) {
      byEvent[delivery.event_index].push(delivery);
      continue;
    }
    const type = normaliseType(delivery.event_type);
    const key = `${delivery.webhook_id}|${type}`;
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    const index = (eventsOfType.get(type) ?? [])[k];
    if (index === undefined) unpaired.push(delivery);
    else byEvent[index].push(delivery);
  }
  return { byEvent, unpaired };
}

/** "bounceType" or "bounce_type" → "bounce type". */
function words(key) {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replaceAll("_", " ")
    .toLowerCase();
}

function normaliseType(type) {
  return String(type ?? "").replace(/^email\./, "");
}

function deliveryItem(delivery) {
  const code = delivery.status_code;
  const ok = Number.isInteger(code) && code >= 200 && code < 300;
  const pending = delivery.finished === false;
  const outcome = Number.isInteger(code) ? String(code) : pending ? "…" : "no answer";
  const attempts = Number(delivery.attempt ?? 1);
  return h(
    "li",
    { class: `delivery ${ok ? "ok" : pending ? "pending" : "failed"}` },
    icon("webhook"),
    h(
      "div",
      { class: "delivery-main" },
      h(
        "div",
        { class: "delivery-line" },
        h(
          "span",
          {
            class: `code ${ok ? "good" : pending ? "warn" : "bad"}`,
            title: ok ? "Acknowledged" : pending ? "Not acknowledged yet" : "Not acknowledged",
          },
          outcome,
        ),
        h("span", { class: "delivery-event" }, delivery.event_type),
        h("span", { class: "delivery-url", title: delivery.url }, delivery.url),
      ),
      h(
        "div",
        { class: "delivery-sub" },
        `Webhook ${delivery.webhook_id} · ${plural(attempts, "attempt")}`,
        pending ? " · retrying" : "",
        delivery.at ? ` · ${preciseTime(delivery.at)}` : "",
        delivery.error ? h("span", { class: "delivery-error" }, ` · ${delivery.error}`) : "",
      ),
    ),
  );
}

/** An event's particulars (the bounce type, the SMTP answer, …) as short "name: value" texts. */
function eventDetails(event) {
  const skip = new Set(["type", "at", "timestamp"]);
  const entries = [];
  for (const [key, value] of Object.entries(event)) {
    if (skip.has(key)) continue;
    if (key === "detail" && value && typeof value === "object" && !Array.isArray(value)) {
      entries.push(...Object.entries(value));
    } else {
      entries.push([key, value]);
    }
  }
  return entries
    .filter(([, value]) => value !== null && value !== undefined && value !== "")
    .map(([key, value]) =>
      h(
        "span",
        { class: "event-detail" },
        key === "detail" ? "" : h("span", { class: "event-detail-key" }, `${words(key)}: `),
        typeof value === "string" ? value : JSON.stringify(value),
      ),
    );
}

/** The reading pane's controller. */
export class DetailView {
  /**
   * @param {HTMLElement} root the pane
   * @param {{onBack: Function, onTag: Function, onFrom: Function, onAction: Function, toast: Function}} hooks
   */
  constructor(root, hooks) {
    this.root = root;
    this.hooks = hooks;
    this.message = null;
    this.mode = "empty"; // "empty", "welcome", "notice" or "message"
    this.tab = "html";
    this.previewWidth = "desktop";
    this.showSource = false;
    this.formatBody = false;
    this.fullBody = false;
    this.busy = false;
  }

  get id() {
    return this.message?.id ?? null;
  }

  /** Show a message (a new one from scratch, the open one by updating what changed). */
  show(message) {
    if (this.message && this.message.id === message.id) {
      this.message = message;
      this.refresh();
      return;
    }
    this.message = message;
    this.fullBody = false;
    this.showSource = false;
    this.render();
  }

  /** The pane with no email open; `text` says why. */
  empty(text = "Select an email to read it.") {
    this.message = null;
    this.mode = "empty";
    replaceChildren(
      this.root,
      h(
        "div",
        { class: "detail-empty" },
        icon("inbox"),
        h("p", {}, text),
        h(
          "p",
          { class: "keys" },
          h("kbd", {}, "j"),
          " ",
          h("kbd", {}, "k"),
          " move · ",
          h("kbd", {}, "/"),
          " search",
        ),
      ),
    );
  }

  /** The pane while the inbox is empty: how to send it a first email. */
  welcome(origin) {
    if (this.mode === "welcome") return;
    this.message = null;
    this.mode = "welcome";
    const python = [
      "from poststack import PostStack",
      "",
      "ps = PostStack(",
      '    api_key="sk_test_…",  # the key the sandbox printed',
      `    base_url="${origin}",`,
      ")",
      "ps.emails.send({",
      '    "from": "hello@example.com",',
      '    "to": ["you@example.com"],',
      '    "subject": "It works",',
      '    "html": "<h1>Hello from the sandbox</h1>",',
      "})",
    ].join("\n");
    replaceChildren(
      this.root,
      h(
        "div",
        { class: "welcome" },
        h("h2", {}, "Send your first email"),
        h("p", { class: "muted" }, "Emails show up here the moment the sandbox accepts them."),
        h("pre", { class: "code" }, python),
        h("p", { class: "muted" }, "Or point any app at it:"),
        h("pre", { class: "code" }, `POSTSTACK_BASE_URL=${origin}`),
      ),
    );
  }

  /** The pane while an email loads or when it could not be loaded. */
  notice(text, { error = false } = {}) {
    this.message = null;
    this.mode = "notice";
    replaceChildren(
      this.root,
      h(
        "div",
        { class: `detail-empty${error ? " error" : ""}` },
        h(
          "button",
          {
            type: "button",
            class: "button subtle back-button",
            onclick: () => this.hooks.onBack(),
          },
          icon("back"),
          "Inbox",
        ),
        h("p", { role: error ? "alert" : null }, text),
      ),
    );
  }

  render() {
    const message = this.message;
    this.mode = "message";
    if (!this.isAvailable(this.tab)) this.tab = message.has_html ? "html" : "text";
    this.headEl = h("div", { class: "message-head" });
    this.tabsEl = h("div", { class: "tabs", role: "tablist", "aria-label": "Parts of the email" });
    this.panels = new Map();
    const panelsEl = h("div", { class: "panels" });
    for (const [key] of TABS) {
      const panel = h("div", {
        class: `panel panel-${key}`,
        id: `panel-${key}`,
        role: "tabpanel",
        "aria-labelledby": `tab-${key}`,
        tabindex: "0",
        hidden: key !== this.tab,
      });
      this.panels.set(key, panel);
      panelsEl.append(panel);
    }
    this.article = h(
      "article",
      { class: "message", "data-id": message.id },
      this.headEl,
      this.tabsEl,
      panelsEl,
    );
    replaceChildren(this.root, this.article);
    this.drawHead();
    this.drawTabs();
    for (const [key] of TABS) this.drawPanel(key);
  }

  /** Redraw what a live update can change; keep the HTML preview and the reader's place. */
  refresh() {
    this.drawHead();
    this.drawTabs();
    this.drawPanel("timeline");
    this.drawPanel("headers");
  }

  isAvailable(tab) {
    const message = this.message;
    if (tab === "html") return Boolean(message.has_html || message.html);
    if (tab === "text") return true;
    return TABS.some(([key]) => key === tab);
  }

  drawHead() {
    const message = this.message;
    const hooks = this.hooks;
    const canSimulate = !NOT_DELIVERED.has(message.status) && !this.busy;
    const simulate = (action, words) =>
      h(
        "button",
        {
          type: "button",
          class: "button subtle small",
          disabled: !canSimulate,
          title: canSimulate
            ? `Simulate: ${words}`
            : `A ${statusLabel(message.status).toLowerCase()} email cannot ${words}`,
          onclick: () => this.act(action),
        },
        icon(action === "complain" ? "flag" : "bounce"),
        h(
          "span",
          {},
          action === "complain" ? "Complaint" : action === "soft" ? "Soft bounce" : "Hard bounce",
        ),
      );
    const people = [
      ["To", message.to],
      ["Cc", message.cc],
      ["Bcc", message.bcc],
      ["Reply-To", message.reply_to],
    ].filter(([, values]) => values && values.length);
    replaceChildren(
      this.headEl,
      h(
        "button",
        { type: "button", class: "button subtle small back-button", onclick: () => hooks.onBack() },
        icon("back"),
        h("span", {}, "Inbox"),
      ),
      h("h1", { class: "subject", id: "message-subject" }, message.subject || "(no subject)"),
      h(
        "div",
        {
          class: "simulate",
          role: "group",
          "aria-label": "Simulate what the recipient's server does",
        },
        h("span", { class: "simulate-label", "aria-hidden": "true" }, "Simulate"),
        simulate("hard", "bounce"),
        simulate("soft", "soft-bounce"),
        simulate("complain", "receive a complaint"),
      ),
      h(
        "div",
        { class: "badges" },
        statusBadge(message.status),
        message.test_mode
          ? h("span", { class: "badge neutral", title: "Sent with an sk_test_ key" }, "Test mode")
          : "",
        message.scheduled_at
          ? h(
              "span",
              { class: "badge info outline", title: fullDate(message.scheduled_at) },
              `Scheduled for ${shortDate(message.scheduled_at)}`,
            )
          : "",
        tagChips(message.tags, hooks.onTag),
      ),
      h(
        "div",
        { class: "people" },
        avatar(message.from),
        h(
          "div",
          { class: "people-main" },
          h(
            "div",
            { class: "from-line" },
            h(
              "button",
              {
                type: "button",
                class: "from-name link-button",
                title: "Show emails from this sender",
                onclick: () => hooks.onFrom(parseAddress(message.from).address),
              },
              displayName(message.from),
            ),
            parseAddress(message.from).name
              ? h("span", { class: "from-address" }, `<${parseAddress(message.from).address}>`)
              : "",
            h(
              "time",
              { class: "date", datetime: message.created_at, title: fullDate(message.created_at) },
              fullDate(message.created_at),
            ),
          ),
          h(
            "dl",
            { class: "recipients" },
            people.map(([label, values]) => [h("dt", {}, label), h("dd", {}, addressList(values))]),
          ),
        ),
      ),
    );
  }

  drawTabs() {
    const message = this.message;
    const counts = {
      attachments: message.attachments?.length ?? message.attachment_count ?? 0,
      timeline: message.events?.length ?? 0,
    };
    const focused = this.tabsEl.contains(document.activeElement)
      ? document.activeElement.dataset.tab
      : null;
    replaceChildren(
      this.tabsEl,
      TABS.filter(([key]) => this.isAvailable(key)).map(([key, label]) => {
        const tab = h(
          "button",
          {
            type: "button",
            role: "tab",
            id: `tab-${key}`,
            class: "tab",
            "data-tab": key,
            "aria-controls": `panel-${key}`,
            "aria-selected": String(key === this.tab),
            tabindex: key === this.tab ? "0" : "-1",
            onclick: () => this.select(key),
            onkeydown: (event) => this.tabKey(event),
          },
          label,
          counts[key] ? h("span", { class: "tab-count" }, String(counts[key])) : "",
        );
        return tab;
      }),
    );
    if (focused) this.tabsEl.querySelector(`[data-tab="${focused}"]`)?.focus();
  }

  select(key, { focus = false } = {}) {
    this.tab = key;
    for (const [name, panel] of this.panels) panel.hidden = name !== key;
    for (const tab of this.tabsEl.querySelectorAll("[role=tab]")) {
      const selected = tab.dataset.tab === key;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected && focus) tab.focus();
    }
    if (key === "html") this.loadPreview();
  }

  /** Arrow keys, Home and End move between tabs (the ARIA tabs pattern). */
  tabKey(event) {
    const keys = [...this.tabsEl.querySelectorAll("[role=tab]")].map((tab) => tab.dataset.tab);
    const at = keys.indexOf(this.tab);
    const moves = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: keys.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    this.select(keys[(moves[event.key] + keys.length) % keys.length], { focus: true });
  }

  drawPanel(key) {
    const panel = this.panels.get(key);
    const draw = {
      html: () => this.htmlPanel(),
      text: () => this.textPanel(),
      headers: () => this.headersPanel(),
      request: () => this.requestPanel(),
      attachments: () => this.attachmentsPanel(),
      timeline: () => this.timelinePanel(),
    }[key];
    replaceChildren(panel, draw());
    if (key === "html" && this.tab === "html") this.loadPreview();
  }

  htmlPanel() {
    const message = this.message;
    const widthButton = (width, label, iconName) =>
      h(
        "button",
        {
          type: "button",
          class: "segment",
          "aria-pressed": String(this.previewWidth === width),
          onclick: () => {
            this.previewWidth = width;
            this.drawPanel("html");
          },
        },
        icon(iconName),
        h("span", {}, label),
      );
    const sourceButton = h(
      "button",
      {
        type: "button",
        class: "segment",
        "aria-pressed": String(this.showSource),
        onclick: () => {
          this.showSource = !this.showSource;
          this.drawPanel("html");
        },
      },
      "Source",
    );
    const tools = h(
      "div",
      { class: "panel-tools" },
      h(
        "div",
        { class: "segments", role: "group", "aria-label": "Preview width" },
        widthButton("desktop", "Desktop", "desktop"),
        widthButton("mobile", "Mobile", "phone"),
      ),
      sourceButton,
      h(
        "a",
        {
          class: "button subtle small",
          href: urls.html(message.id),
          target: "_blank",
          rel: "noopener noreferrer",
        },
        icon("external"),
        h("span", {}, "Open"),
      ),
    );
    if (this.showSource) {
      return [tools, h("pre", { class: "code source" }, message.html ?? "")];
    }
    // No sandbox tokens at all: no scripts, no forms, no popups, and a unique
    // origin, so the email can neither run code nor reach this page or the API.
    // The html route's own Content-Security-Policy blocks remote content too.
    this.frame = h("iframe", {
      class: "preview",
      title: `HTML body of “${message.subject || "(no subject)"}”`,
      sandbox: "",
      referrerpolicy: "no-referrer",
      "data-src": urls.html(message.id),
    });
    return [tools, h("div", { class: `preview-stage ${this.previewWidth}` }, this.frame)];
  }

  /** Point the iframe at the email's HTML once the HTML tab is shown (not before). */
  loadPreview() {
    const frame = this.frame;
    if (frame && !frame.getAttribute("src") && frame.isConnected) {
      frame.setAttribute("src", frame.dataset.src);
    }
  }

  textPanel() {
    const text = this.message.text;
    if (text === null || text === undefined || text === "") {
      return h("p", { class: "muted" }, "This email has no text part.");
    }
    return [
      h(
        "div",
        { class: "panel-tools" },
        copyButton("Text", () => text, this.hooks.toast),
        h(
          "a",
          {
            class: "button subtle small",
            href: urls.text(this.message.id),
            target: "_blank",
            rel: "noopener noreferrer",
          },
          icon("external"),
          h("span", {}, "Open"),
        ),
      ),
      h("pre", { class: "plain" }, text),
    ];
  }

  headersPanel() {
    const message = this.message;
    const details = [
      ["ID", message.id],
      ["Status", statusLabel(message.status)],
      ["Received", fullDate(message.created_at)],
      ...(message.scheduled_at ? [["Scheduled", fullDate(message.scheduled_at)]] : []),
      ["Test mode", message.test_mode ? "yes (sk_test_ key)" : "no"],
      ...(message.tags?.length ? [["Tags", message.tags.map(tagText).join(", ")]] : []),
    ];
    return [
      h("h2", { class: "section-title" }, "Email"),
      keyValueTable(details, "About this email", ""),
      h("h2", { class: "section-title" }, "Headers"),
      keyValueTable(Object.entries(message.headers ?? {}), "Custom headers", "No custom headers."),
      h("h2", { class: "section-title" }, "Metadata"),
      keyValueTable(
        Object.entries(message.metadata ?? {}).filter(([, value]) => !isEmpty(value)),
        "Metadata",
        "No metadata.",
      ),
    ];
  }

  requestPanel() {
    const request = this.message.request;
    if (!request)
      return h("p", { class: "muted" }, "The request that sent this email was not kept.");
    const body = String(request.body ?? "");
    let shown = body;
    if (this.formatBody) {
      try {
        shown = JSON.stringify(JSON.parse(body), null, 2);
      } catch {
        shown = body;
      }
    }
    const cut = !this.fullBody && shown.length > BODY_PREVIEW_CHARS;
    const key = request.idempotency_key;
    return [
      h(
        "div",
        { class: "request-line" },
        h("span", { class: "method" }, request.method ?? "POST"),
        h("code", { class: "request-path" }, request.path ?? "/emails"),
      ),
      h(
        "div",
        { class: "idempotency" },
        h("span", { class: "idempotency-label" }, "Idempotency-Key"),
        key
          ? h("code", { class: "idempotency-key" }, key)
          : h("span", { class: "muted" }, "none sent"),
        key ? copyButton("Idempotency-Key", () => key, this.hooks.toast) : "",
      ),
      h("h2", { class: "section-title" }, "Headers"),
      keyValueTable(Object.entries(request.headers ?? {}), "Request headers", "No headers."),
      h(
        "div",
        { class: "section-bar" },
        h("h2", { class: "section-title" }, "Body"),
        h(
          "div",
          { class: "segments", role: "group", "aria-label": "Body layout" },
          h(
            "button",
            {
              type: "button",
              class: "segment",
              "aria-pressed": String(!this.formatBody),
              onclick: () => ((this.formatBody = false), this.drawPanel("request")),
            },
            "As received",
          ),
          h(
            "button",
            {
              type: "button",
              class: "segment",
              "aria-pressed": String(this.formatBody),
              onclick: () => ((this.formatBody = true), this.drawPanel("request")),
            },
            "Formatted",
          ),
        ),
        copyButton("Request body", () => body, this.hooks.toast),
      ),
      h("pre", { class: "code request-body" }, cut ? shown.slice(0, BODY_PREVIEW_CHARS) : shown),
      cut
        ? h(
            "button",
            {
              type: "button",
              class: "button subtle small",
              onclick: () => ((this.fullBody = true), this.drawPanel("request")),
            },
            `Show all ${fileSize(shown.length)}`,
          )
        : "",
    ];
  }

  attachmentsPanel() {
    const attachments = this.message.attachments ?? [];
    if (!attachments.length) return h("p", { class: "muted" }, "No attachments.");
    return h(
      "ul",
      { class: "attachments" },
      attachments.map((attachment) =>
        h(
          "li",
          { class: "attachment" },
          h(
            "span",
            { class: "file-icon", "aria-hidden": "true" },
            fileExtension(attachment.filename),
          ),
          h(
            "div",
            { class: "attachment-main" },
            h(
              "span",
              { class: "attachment-name" },
              attachment.filename || `attachment ${attachment.index + 1}`,
            ),
            h(
              "span",
              { class: "attachment-meta" },
              `${attachment.content_type || "application/octet-stream"} · ${fileSize(attachment.size)}`,
            ),
          ),
          h(
            "a",
            {
              class: "button subtle small",
              href: urls.attachment(this.message.id, attachment.index),
              download: attachment.filename || "",
              "aria-label": `Download ${attachment.filename || "attachment"}`,
            },
            icon("download"),
            h("span", {}, "Download"),
          ),
        ),
      ),
    );
  }

  timelinePanel() {
    const events = this.message.events ?? [];
    const deliveries = this.message.deliveries ?? [];
    if (!events.length && !deliveries.length) return h("p", { class: "muted" }, "No events yet.");
    const { byEvent, unpaired } = pairDeliveries(events, deliveries);
    const items = events.map((event, index) =>
      h(
        "li",
        {
          class: `event tone-${statusTone(normaliseType(event.type))}`,
          "data-type": normaliseType(event.type),
        },
        h("span", { class: "event-dot", "aria-hidden": "true" }),
        h(
          "div",
          { class: "event-main" },
          h(
            "div",
            { class: "event-line" },
            h("span", { class: "event-type" }, eventLabel(event.type)),
            h(
              "time",
              {
                class: "event-time",
                datetime: event.at ?? event.timestamp,
                title: fullDate(event.at ?? event.timestamp),
              },
              preciseTime(event.at ?? event.timestamp),
            ),
          ),
          h("div", { class: "event-details" }, eventDetails(event)),
          byEvent[index].length
            ? h(
                "ul",
                { class: "deliveries", "aria-label": "Webhook deliveries" },
                byEvent[index].map(deliveryItem),
              )
            : "",
        ),
      ),
    );
    return [
      h(
        "p",
        { class: "muted timeline-summary" },
        `${plural(events.length, "event")}, ${plural(deliveries.length, "webhook delivery", "webhook deliveries")}`,
      ),
      h("ol", { class: "timeline" }, items),
      unpaired.length
        ? [
            h("h2", { class: "section-title" }, "Other deliveries"),
            h("ul", { class: "deliveries" }, unpaired.map(deliveryItem)),
          ]
        : "",
    ];
  }

  async act(action) {
    const message = this.message;
    this.busy = true;
    this.drawHead();
    try {
      await this.hooks.onAction(message.id, action);
      if (this.message?.id === message.id) this.select("timeline");
    } finally {
      this.busy = false;
      if (this.message) this.drawHead();
    }
  }
}

/** null, "", [] and {} say nothing: the metadata table leaves them out. */
function isEmpty(value) {
  if (value === null || value === undefined || value === "") return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && Object.keys(value).length === 0;
}

function fileExtension(filename) {
  const match = /\.([A-Za-z0-9]{1,4})$/.exec(filename ?? "");
  return match ? match[1].toUpperCase() : "FILE";
}

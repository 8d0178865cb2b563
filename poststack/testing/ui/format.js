// Turning API values into words for people: dates, sizes, addresses, statuses.

/** The statuses an email can have, in lifecycle order, with the words shown for them. */
export const STATUSES = [
  ["scheduled", "Scheduled"],
  ["queued", "Queued"],
  ["sending", "Sending"],
  ["sent", "Sent"],
  ["deferred", "Deferred"],
  ["delivered", "Delivered"],
  ["opened", "Opened"],
  ["clicked", "Clicked"],
  ["soft_bounced", "Soft bounced"],
  ["bounced", "Bounced"],
  ["complained", "Complained"],
  ["failed", "Failed"],
  ["cancelled", "Cancelled"],
];
const STATUS_WORDS = new Map(STATUSES);

/** "soft_bounced" → "Soft bounced"; an unknown status is shown as sent, underscores spaced. */
export function statusLabel(status) {
  if (!status) return "Unknown";
  return STATUS_WORDS.get(status) ?? capitalise(String(status).replaceAll("_", " "));
}

/** The colour family of a status badge (a CSS class suffix). */
export function statusTone(status) {
  switch (status) {
    case "delivered":
    case "opened":
    case "clicked":
      return "good";
    case "bounced":
    case "failed":
    case "complained":
      return "bad";
    case "deferred":
    case "soft_bounced":
      return "warn";
    case "scheduled":
    case "queued":
    case "sending":
    case "sent":
      return "info";
    default:
      return "neutral";
  }
}

/** "email.soft_bounced" or "soft_bounced" → "Soft bounced". */
export function eventLabel(type) {
  const name = String(type ?? "").replace(/^email\./, "");
  return STATUS_WORDS.get(name) ?? capitalise(name.replaceAll("_", " ").replaceAll(".", " "));
}

export function capitalise(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

/**
 * Split "Ada Lovelace <ada@example.com>" into {name, address}; a bare address has no name.
 * Quotes around the name are dropped.
 */
export function parseAddress(value) {
  const text = String(value ?? "").trim();
  const match = /^(.*?)\s*<([^<>]+)>$/.exec(text);
  if (!match) return { name: "", address: text };
  return { name: match[1].replace(/^"(.*)"$/, "$1").trim(), address: match[2].trim() };
}

/** The name if there is one, else the address. */
export function displayName(value) {
  const { name, address } = parseAddress(value);
  return name || address;
}

function parseDate(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

const TIME = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const DAY = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const DAY_YEAR = new Intl.DateTimeFormat(undefined, {
  day: "numeric",
  month: "short",
  year: "numeric",
});
const FULL = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  timeZoneName: "short",
});
const PRECISE = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  fractionalSecondDigits: 3,
});

/** A short date for the list: the time today, the day this year, else day and year. */
export function shortDate(iso, now = new Date()) {
  const date = parseDate(iso);
  if (!date) return "";
  if (date.toDateString() === now.toDateString()) return TIME.format(date);
  if (date.getFullYear() === now.getFullYear()) return DAY.format(date);
  return DAY_YEAR.format(date);
}

/** The full local date and time, with the zone. */
export function fullDate(iso) {
  const date = parseDate(iso);
  return date ? FULL.format(date) : String(iso ?? "");
}

/** Time of day to the millisecond, for the timeline, where events come close together. */
export function preciseTime(iso) {
  const date = parseDate(iso);
  return date ? PRECISE.format(date) : String(iso ?? "");
}

/** 1536 → "1.5 KB". */
export function fileSize(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** A tag as the API may carry it: "welcome", or {name, value}. */
export function tagText(tag) {
  if (tag && typeof tag === "object") {
    const { name, value } = tag;
    return value === undefined || value === null || value === ""
      ? String(name)
      : `${name}:${value}`;
  }
  return String(tag);
}

/** The value to search for a tag by: its name (the API filters tags by name). */
export function tagName(tag) {
  return tag && typeof tag === "object" ? String(tag.name) : String(tag);
}

/** "1 email", "3 emails". */
export function plural(count, word, many = `${word}s`) {
  return `${count} ${count === 1 ? word : many}`;
}

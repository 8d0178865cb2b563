// The search box's little language: free words plus field:value filters.
//
//   invoice from:billing@shop.test to:ada tag:receipt status:delivered subject:"your order"
//
// Each field maps onto one query parameter of GET /_sandbox/messages; the free
// words become `q` (which the sandbox matches against from, to and subject).
// A value with spaces goes in double quotes. A later filter for the same field
// replaces an earlier one, because the API takes one value per field.

export const FIELDS = ["from", "to", "subject", "tag", "status"];

// field:"quoted value" | field:value | field: (empty) | "quoted words" | word
const TOKEN = /(\w+):(?:"([^"]*)"?|(\S*))|"([^"]*)"?|(\S+)/g;

/** Parse search text into {q, from, to, subject, tag, status}, leaving out empty ones. */
export function parseSearch(text) {
  const filters = {};
  const words = [];
  for (const match of String(text ?? "").matchAll(TOKEN)) {
    const field = match[1]?.toLowerCase();
    if (field !== undefined && FIELDS.includes(field)) {
      const value = (match[2] ?? match[3]).trim();
      if (value) filters[field] = value;
      else delete filters[field];
    } else if (field !== undefined) {
      words.push(match[0]); // "foo:bar" with an unknown field is just a word
    } else {
      const word = (match[4] ?? match[5]).trim();
      if (word) words.push(word);
    }
  }
  if (words.length) filters.q = words.join(" ");
  return filters;
}

function quote(value) {
  return /[\s"]/.test(value) || value === "" ? `"${value.replaceAll('"', "")}"` : value;
}

/** The inverse of parseSearch: filters back into search text, free words first. */
export function formatSearch(filters) {
  const parts = [];
  if (filters.q) parts.push(filters.q);
  for (const field of FIELDS) {
    if (filters[field]) parts.push(`${field}:${quote(filters[field])}`);
  }
  return parts.join(" ");
}

/** Search text with one field set (or removed, for an empty value), the rest kept. */
export function withFilter(text, field, value) {
  const filters = parseSearch(text);
  if (value) filters[field] = value;
  else delete filters[field];
  return formatSearch(filters);
}

/** Whether any filter (or free word) is active. */
export function isFiltered(filters) {
  return Object.keys(filters).length > 0;
}

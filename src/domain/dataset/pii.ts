/**
 * A screen for personal data in training text: email addresses, phone numbers, payment card numbers.
 * Heuristics that favour precision (a warning nobody reads is worthless); findings are counted, and
 * the values themselves are never returned, logged or reported.
 */

export interface PiiCounts {
  email: number;
  phone: number;
  paymentCard: number;
}

export const PII_KINDS = ['email', 'phone', 'paymentCard'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export function emptyPiiCounts(): PiiCounts {
  return { email: 0, phone: 0, paymentCard: 0 };
}

/** The Luhn checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

function isLocalPartChar(c: number): boolean {
  // A-Z a-z 0-9 . _ % + -
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}

function isDomainChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 46 || c === 45;
}

const TOP_LEVEL_DOMAIN = /^[A-Za-z]{2,24}$/;

/**
 * Email addresses, found by walking out from each "@" (bounded by RFC 5321's 64/253 lengths) rather
 * than by a regex, which backtracks quadratically over long runs of word characters.
 */
export function countEmails(text: string): number {
  let count = 0;
  let at = text.indexOf('@');
  while (at !== -1) {
    let start = at;
    while (start > 0 && at - start < 64 && isLocalPartChar(text.charCodeAt(start - 1))) start--;
    let end = at + 1;
    while (end < text.length && end - at <= 253 && isDomainChar(text.charCodeAt(end))) end++;
    let domain = text.slice(at + 1, end);
    domain = domain.replace(/[.-]+$/, '');
    const labels = domain.split('.');
    const tld = labels[labels.length - 1] ?? '';
    if (start < at && labels.length >= 2 && labels.every((l) => l.length > 0) && TOP_LEVEL_DOMAIN.test(tld)) count++;
    at = text.indexOf('@', Math.max(end, at + 1));
  }
  return count;
}

// A run of digits joined by at most two separator characters; classified below.
const DIGIT_RUN = /[+(]?\d(?:[ .\-()]{0,2}\d)+/g;
const NATIONAL_PHONE = /^(?:\(\d{2,5}\) ?|\d{2,5}[ .-])\d{3,4}[ .-]?\d{3,4}$/;
const FRENCH_STYLE_PHONE = /^0\d(?:[ .-]\d{2}){4}$/;
const CARD_SEPARATORS_ONLY = /^[\d -]+$/;

/** Classifies one digit run: a payment card (Luhn), a phone number, or nothing. */
export function classifyDigitRun(run: string): 'paymentCard' | 'phone' | null {
  const digits = run.replace(/\D/g, '');
  if (digits.length >= 13 && digits.length <= 19 && CARD_SEPARATORS_ONLY.test(run) && /^[2-6]/.test(digits) && luhnValid(digits)) return 'paymentCard';
  if (run.startsWith('+')) return digits.length >= 8 && digits.length <= 15 ? 'phone' : null;
  if (digits.length >= 10 && digits.length <= 11 && (NATIONAL_PHONE.test(run) || FRENCH_STYLE_PHONE.test(run))) return 'phone';
  return null;
}

/** Adds the findings in one text to counts. */
export function scanTextForPii(text: string, counts: PiiCounts): void {
  if (text.includes('@')) counts.email += countEmails(text);
  DIGIT_RUN.lastIndex = 0;
  for (let m = DIGIT_RUN.exec(text); m !== null; m = DIGIT_RUN.exec(text)) {
    const kind = classifyDigitRun(m[0]);
    if (kind !== null) counts[kind]++;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Scans the text a model trains on: message content (text and text parts) and call arguments. */
export function scanExampleForPii(example: Record<string, unknown>): PiiCounts {
  const counts = emptyPiiCounts();
  const messages = example.messages;
  if (!Array.isArray(messages)) return counts;
  for (const message of messages) {
    if (!isRecord(message)) continue;
    const content = message.content;
    if (typeof content === 'string') scanTextForPii(content, counts);
    else if (Array.isArray(content)) {
      for (const part of content) if (isRecord(part) && typeof part.text === 'string') scanTextForPii(part.text, counts);
    }
    if (Array.isArray(message.tool_calls)) {
      for (const call of message.tool_calls) {
        if (isRecord(call) && isRecord(call.function) && typeof call.function.arguments === 'string') scanTextForPii(call.function.arguments, counts);
      }
    }
    if (isRecord(message.function_call) && typeof message.function_call.arguments === 'string') scanTextForPii(message.function_call.arguments, counts);
  }
  return counts;
}

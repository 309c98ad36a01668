import { describe, expect, it } from 'vitest';
import { classifyDigitRun, countEmails, emptyPiiCounts, luhnValid, scanExampleForPii, scanTextForPii } from '../../../src/domain/dataset';
import { validateDatasetFile } from '../../../src/dataset';
import { fixture } from './fixtures';

function scan(text: string) {
  const counts = emptyPiiCounts();
  scanTextForPii(text, counts);
  return counts;
}

describe('PII detectors', () => {
  it('checks card numbers with Luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('79927398713')).toBe(true); // the textbook example
    expect(luhnValid('12a4')).toBe(false);
  });

  it('finds payment cards with spaces or dashes, not Luhn-invalid or non-card numbers', () => {
    expect(scan('card 4111 1111 1111 1111 ok').paymentCard).toBe(1);
    expect(scan('card 5500-0000-0000-0004').paymentCard).toBe(1);
    expect(scan('card 4111111111111112').paymentCard).toBe(0);
    expect(scan('order 1234567890123452').paymentCard).toBe(0); // Luhn-valid but starts with 1: no card network
  });

  it('finds phone numbers in international and national formats, not dates, versions or IPs', () => {
    expect(scan('call +44 20 7946 0958').phone).toBe(1);
    expect(scan('call (555) 123-4567 or 555.987.6543').phone).toBe(2);
    expect(scan('appelez 06 12 34 56 78').phone).toBe(1);
    expect(scan('on 2024-01-15 at 10:30, v1.2.3, host 192.168.100.200, id 5551234567').phone).toBe(0);
  });

  it('finds email addresses, not handles or file names', () => {
    expect(countEmails('write to jane.doe+ft@mail.example.co.uk today')).toBe(1);
    expect(countEmails('a@b.c d@e.fr')).toBe(1); // one-letter TLD is not one
    expect(countEmails('@handle, user@localhost, see @ 10am')).toBe(0);
    expect(countEmails(`${'a'.repeat(100_000)}@`)).toBe(0); // linear, no backtracking blow-up
  });

  it('scans message text, content parts and call arguments of an example', () => {
    const counts = scanExampleForPii({
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'me@example.com' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"phone":"+1 415 555 0100"}' } }] },
      ],
    });
    expect(counts).toEqual({ email: 1, phone: 1, paymentCard: 0 });
  });

  it('classifies a digit run as card before phone', () => {
    expect(classifyDigitRun('4111 1111 1111 1111')).toBe('paymentCard');
    expect(classifyDigitRun('+1 415 555 0100')).toBe('phone');
    expect(classifyDigitRun('12345')).toBeNull();
  });
});

describe('PII in the validation report', () => {
  it('reports counts and line numbers as warnings without ever echoing the values', async () => {
    const report = await validateDatasetFile(fixture('good/warnings_only.jsonl'), { model: 'gpt-4o-mini' });
    expect(report.valid).toBe(true);
    expect(report.pii.email).toEqual({ occurrences: 1, examples: 1, lines: [15] });
    expect(report.pii.phone).toEqual({ occurrences: 2, examples: 1, lines: [15] });
    expect(report.pii.paymentCard).toEqual({ occurrences: 1, examples: 1, lines: [15] });
    expect(report.warnings.filter((w) => w.code.startsWith('pii_')).map((w) => [w.line, w.code])).toEqual([
      [15, 'pii_email'],
      [15, 'pii_phone'],
      [15, 'pii_payment_card'],
    ]);
    const serialised = JSON.stringify(report);
    for (const secret of ['jane.doe', 'example.org', '7946', '4111', '123-4567']) expect(serialised).not.toContain(secret);
  });
});

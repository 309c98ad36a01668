/**
 * Writes data/sample/support-conversations.jsonl: multi-turn customer-support conversations for a
 * fictional outdoor-gear shop. Deterministic (seeded), so the file in the repo can be regenerated
 * byte for byte: `npx tsx data/sample/generate.ts`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/domain/random';

const COUNT = 240;
const SYSTEM =
  'You are the support assistant of Northwind Outfitters, an online outdoor-gear shop. Be brief, friendly and exact: ' +
  'quote the policy that applies, ask for the order number when you need it, and never promise what the policy does not allow.';

// Seeded: the sample must not change between machines.
const rand = mulberry32(20261121);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const orderNo = () => `NW-${100000 + Math.floor(rand() * 900000)}`;

const products = ['trail runners', 'down jacket', '2-person tent', 'hiking poles', 'sleeping bag', 'rain shell', 'headlamp', 'camp stove', '45L backpack', 'merino base layer'];
const cities = ['Lyon', 'Denver', 'Osaka', 'Toronto', 'Leeds', 'Porto', 'Austin', 'Bergen'];
const names = ['Sam', 'Priya', 'Jonas', 'Maria', 'Kenji', 'Aisha', 'Tom', 'Lena'];

interface Intent {
  openers: ((p: string) => string)[];
  ask: string;
  answer: (o: { order: string; product: string; city: string; name: string }) => string;
}

const intents: Record<string, Intent> = {
  order_status: {
    openers: [(p) => `Where is my ${p}? It still hasn't arrived.`, (p) => `Can you check the status of my order? I ordered ${p}.`, () => 'My package is late, any update?'],
    ask: 'Sorry for the wait! Could you share your order number so I can look it up?',
    answer: (o) => `Thanks ${o.name}. Order ${o.order} left our warehouse and is with the carrier; tracking shows delivery within 2 business days. You will get an email with the tracking link.`,
  },
  refund: {
    openers: [(p) => `I returned the ${p} last week. When do I get my money back?`, () => 'I want a refund for my return.', (p) => `Has my refund for the ${p} been processed?`],
    ask: 'I can check that for you. What is the order number of the return?',
    answer: (o) => `Your return for order ${o.order} was received. Refunds go back to the original payment method within 5 to 7 business days after we receive the item.`,
  },
  return_label: {
    openers: [(p) => `How do I return the ${p}? It doesn't fit.`, () => 'I need a return label please.', (p) => `Can I send back the ${p}?`],
    ask: 'Of course. Which order is it? Please give me the order number.',
    answer: (o) => `I have emailed a free prepaid return label for order ${o.order}. Items can be returned unused within 30 days of delivery; pack the item with its tags and drop it at any carrier point.`,
  },
  change_address: {
    openers: [() => 'I put the wrong shipping address on my order.', (p) => `Can I change where my ${p} is delivered?`, () => 'I moved, can you update the delivery address?'],
    ask: 'Happy to help. What is the order number, and what is the new address?',
    answer: (o) => `Done: the delivery address of order ${o.order} is now in ${o.city}. Address changes are possible until the order ships; you will receive a confirmation email.`,
  },
  cancel_order: {
    openers: [() => 'Please cancel my order.', (p) => `I changed my mind about the ${p}, can I cancel?`, () => 'I ordered twice by mistake, cancel one please.'],
    ask: 'I can cancel it if it has not shipped yet. What is the order number?',
    answer: (o) => `Order ${o.order} is cancelled. Orders can be cancelled until they ship, and the full amount is refunded to your payment method within 3 business days.`,
  },
  damaged_item: {
    openers: [(p) => `My ${p} arrived damaged.`, (p) => `The ${p} I received is broken.`, () => 'There is a tear in the item I got.'],
    ask: "I'm sorry about that! Could you send me the order number and a photo of the damage?",
    answer: (o) => `Thank you, ${o.name}. I have opened a claim for order ${o.order}: a replacement ships today at no cost, and you do not need to send the damaged item back.`,
  },
  password_reset: {
    openers: [() => "I can't log into my account.", () => 'I forgot my password.', () => 'The password reset email never arrives.'],
    ask: 'Let me help. Which email address is the account under?',
    answer: () => 'I have sent a new password reset link; it is valid for 30 minutes. Check your spam folder, and make sure you use the newest link if you requested several.',
  },
  promo_code: {
    openers: [() => "My discount code doesn't work.", () => 'The promo code says invalid at checkout.', () => 'Can I still use the SPRING20 code?'],
    ask: 'Let me check. Which code are you using, and what is in your cart?',
    answer: () => 'Promo codes apply to full-price items only and cannot be combined with other offers. SPRING20 is valid until the end of the month on orders over 50 EUR.',
  },
  shipping_international: {
    openers: [(p) => `Do you ship the ${p} abroad?`, () => 'How much is shipping outside the EU?', () => 'Can I order from outside Europe?'],
    ask: 'We do ship internationally. Which country should it go to?',
    answer: (o) => `Yes, we ship to ${o.city}. International delivery takes 5 to 10 business days; duties and taxes are calculated at checkout, and shipping is free over 150 EUR.`,
  },
  size_exchange: {
    openers: [(p) => `The ${p} is too small, can I get a bigger size?`, (p) => `Can I exchange my ${p} for another size?`, () => 'I need to swap for a different size.'],
    ask: 'Sure! What is the order number and which size would you like?',
    answer: (o) => `I have set up an exchange for order ${o.order}: the new size ships as soon as the carrier scans your return, and exchanges are free within 30 days.`,
  },
  warranty: {
    openers: [(p) => `My ${p} stopped working after 8 months.`, (p) => `Is the ${p} under warranty?`, () => 'The zipper broke on something I bought last year.'],
    ask: 'That should be covered. Can you give me the order number or the date of purchase?',
    answer: (o) => `Good news: order ${o.order} is within our 2-year warranty. Send the item with the prepaid label I have emailed and we will repair or replace it within 14 days.`,
  },
  invoice: {
    openers: [() => 'I need an invoice for my company.', () => 'Can you send me a VAT invoice?', (p) => `Where can I download the invoice for the ${p}?`],
    ask: 'Of course. What is the order number, and should the invoice show a company name?',
    answer: (o) => `The invoice for order ${o.order} is now in your account under Orders > Invoices, and I have emailed you a copy. Company name and VAT number can be added before download.`,
  },
};

const lines: string[] = [];
const intentNames = Object.keys(intents);
for (let i = 0; i < COUNT; i++) {
  const intent = intents[intentNames[i % intentNames.length] as string] as Intent;
  const o = { order: orderNo(), product: pick(products), city: pick(cities), name: pick(names) };
  const reply =
    intent === intents.change_address
      ? `It's ${o.order}, and the new address is 12 Harbour Street, ${o.city}.`
      : intent === intents.shipping_international
        ? `To ${o.city}, postcode ${o.order.slice(3, 8)}.`
        : intent === intents.password_reset
          ? `It's ${o.name.toLowerCase()}.${o.order.slice(3)}@example.com.`
          : `Sure, it's ${o.order}. My name is ${o.name}.`;
  const example = {
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: pick(intent.openers)(o.product) },
      { role: 'assistant', content: intent.ask },
      { role: 'user', content: reply },
      { role: 'assistant', content: intent.answer(o) },
    ],
  };
  lines.push(JSON.stringify(example));
}
const out = fileURLToPath(new URL('./support-conversations.jsonl', import.meta.url));
writeFileSync(out, lines.join('\n') + '\n');
console.log(`wrote ${lines.length} conversations to ${out}`);

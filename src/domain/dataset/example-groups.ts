/**
 * Groups of identical examples, keyed by a 128-bit content hash given as four 32-bit words.
 * Typed arrays with open addressing: ~30 bytes per distinct example whatever the example's size,
 * so memory stays flat on large files (a Map of hex strings costs ~5 times that).
 */
export class ExampleGroupIndex {
  private hashes = new Uint32Array(4 * 1024);
  private firstLines = new Uint32Array(1024);
  private sizes = new Uint32Array(1024);
  /** Group id + 1 per slot; 0 is empty. */
  private slots = new Int32Array(2048);
  private count = 0;

  /** Number of distinct examples. */
  get groupCount(): number {
    return this.count;
  }

  /** Adds one example and returns its group id; sizeOf(id) > 1 means it repeats an earlier one. */
  add(h0: number, h1: number, h2: number, h3: number, line: number): number {
    const found = this.find(h0, h1, h2, h3);
    if (found !== -1) {
      this.sizes[found] = (this.sizes[found] as number) + 1;
      return found;
    }
    if (this.count === this.sizes.length) this.growGroups();
    if ((this.count + 1) * 2 > this.slots.length) this.growSlots();
    const id = this.count++;
    const at = id * 4;
    this.hashes[at] = h0;
    this.hashes[at + 1] = h1;
    this.hashes[at + 2] = h2;
    this.hashes[at + 3] = h3;
    this.firstLines[id] = line;
    this.sizes[id] = 1;
    this.place(id);
    return id;
  }

  /** The group id of a hash, or -1. */
  find(h0: number, h1: number, h2: number, h3: number): number {
    const mask = this.slots.length - 1;
    for (let slot = (h0 >>> 0) & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot] as number;
      if (entry === 0) return -1;
      const id = entry - 1;
      const at = id * 4;
      if (this.hashes[at] === h0 >>> 0 && this.hashes[at + 1] === h1 >>> 0 && this.hashes[at + 2] === h2 >>> 0 && this.hashes[at + 3] === h3 >>> 0) return id;
    }
  }

  sizeOf(id: number): number {
    return this.sizes[id] as number;
  }

  firstLineOf(id: number): number {
    return this.firstLines[id] as number;
  }

  /** The four hash words of a group (a view; do not keep it across add()). */
  hashWordsOf(id: number): Uint32Array {
    return this.hashes.subarray(id * 4, id * 4 + 4);
  }

  private place(id: number): void {
    const mask = this.slots.length - 1;
    let slot = (this.hashes[id * 4] as number) & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = id + 1;
  }

  private growGroups(): void {
    const capacity = this.sizes.length * 2;
    const hashes = new Uint32Array(capacity * 4);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const firstLines = new Uint32Array(capacity);
    firstLines.set(this.firstLines);
    this.firstLines = firstLines;
    const sizes = new Uint32Array(capacity);
    sizes.set(this.sizes);
    this.sizes = sizes;
  }

  private growSlots(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let id = 0; id < this.count; id++) this.place(id);
  }
}

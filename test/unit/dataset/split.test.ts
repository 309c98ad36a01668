import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assignSplit, ExampleGroupIndex, splitRankKey, validExampleTarget } from '../../../src/domain/dataset';
import { splitDatasetFile, validateDatasetFile } from '../../../src/dataset';
import { compactJsonLine } from '../../../src/dataset/analyse-line';
import { exampleLines, fixture, tempDir } from './fixtures';

const tmp = tempDir('dataset-split');
afterAll(() => tmp.remove());
let runs = 0;
const outDir = () => join(tmp.dir, `out-${++runs}`);

function writeDataset(name: string, lines: string[]): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function linesOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return text === '' ? [] : text.replace(/\n$/, '').split('\n');
}

describe('split rule (pure)', () => {
  it('sends round(n x validRatio) examples to validation', () => {
    expect(validExampleTarget(100, 0.2)).toBe(20);
    expect(validExampleTarget(37, 0.2)).toBe(7);
    expect(validExampleTarget(13, 0.5)).toBe(7);
  });

  it('ranks by a keyed hash that depends on the seed', () => {
    const words = [1, 2, 3, 4];
    expect(splitRankKey(42, words)).toEqual(splitRankKey(42, words));
    expect(splitRankKey(42, words)).not.toEqual(splitRankKey(43, words));
    expect(splitRankKey(2 ** 40 + 42, words)).not.toEqual(splitRankKey(42, words)); // high bits of the seed count too
  });

  it('keeps each duplicate group whole and still meets the target when singletons allow', () => {
    const groups = new ExampleGroupIndex();
    for (let i = 0; i < 95; i++) groups.add(i * 7919, i, i * 31, i ^ 0x5555, i + 1);
    for (let copy = 0; copy < 5; copy++) groups.add(999_999, 1, 2, 3, 200 + copy); // one group of five copies
    const split = assignSplit(groups, 7, 0.2);
    expect(split).toMatchObject({ examples: 100, targetValidExamples: 20, validExamples: 20, trainExamples: 80, duplicateGroupsKeptTogether: 1 });
  });

  it('gives validation the most that fits when duplicate groups make the target impossible', () => {
    const groups = new ExampleGroupIndex();
    for (let copy = 0; copy < 10; copy++) groups.add(1, 2, 3, 4, copy + 1); // every example identical
    expect(assignSplit(groups, 1, 0.2)).toMatchObject({ targetValidExamples: 2, validExamples: 0, trainExamples: 10 });
  });

  it('refuses a bad seed or ratio', () => {
    const groups = new ExampleGroupIndex();
    expect(() => assignSplit(groups, -1, 0.2)).toThrow(/seed/);
    expect(() => assignSplit(groups, 1.5, 0.2)).toThrow(/seed/);
    expect(() => assignSplit(groups, 1, 1)).toThrow(/validRatio/);
  });
});

describe('splitDatasetFile', () => {
  it('writes exactly 80/20 by default, disjoint, covering every example once', async () => {
    const source = exampleLines(100);
    const path = writeDataset('hundred.jsonl', source);
    const manifest = await splitDatasetFile(path, { outDir: outDir(), seed: 42 });
    expect(manifest.validRatio).toBe(0.2);
    expect(manifest.source.examples).toBe(100);
    expect(manifest.train.examples).toBe(80);
    expect(manifest.valid.examples).toBe(20);
    const train = linesOf(manifest.train.path);
    const valid = linesOf(manifest.valid.path);
    expect(train).toHaveLength(80);
    expect(valid).toHaveLength(20);
    expect(train.filter((l) => valid.includes(l))).toEqual([]);
    expect([...train, ...valid].sort()).toEqual([...source].sort());
  });

  it('is deterministic: the same input and seed give byte-identical files, another seed another split', async () => {
    const path = writeDataset('det.jsonl', exampleLines(50));
    const first = await splitDatasetFile(path, { outDir: outDir(), seed: 7 });
    const second = await splitDatasetFile(path, { outDir: outDir(), seed: 7 });
    expect(readFileSync(second.train.path)).toEqual(readFileSync(first.train.path));
    expect(readFileSync(second.valid.path)).toEqual(readFileSync(first.valid.path));
    expect({ ...second, train: { ...second.train, path: '' }, valid: { ...second.valid, path: '' } }).toEqual({ ...first, train: { ...first.train, path: '' }, valid: { ...first.valid, path: '' } });
    const other = await splitDatasetFile(path, { outDir: outDir(), seed: 8 });
    expect(other.valid.sha256).not.toBe(first.valid.sha256);
    expect(other.valid.examples).toBe(first.valid.examples);
  });

  // The hashes were also reproduced by an independent Python re-implementation of the rule (integer ops + sha256).
  it('gives the same split on every machine (golden hashes for a fixture and seed 42)', async () => {
    const manifest = await splitDatasetFile(fixture('good/basic.jsonl'), { outDir: outDir(), seed: 42 });
    expect(manifest.source.sha256).toBe('b0ebb4619e34473d6ae8d45da7d5ec95461f5a732741137fbda4aa55bf91a5d9');
    expect(manifest.train).toMatchObject({ examples: 16, sha256: '2e69d832485fb19489ff4c9ed69860a907af8f495329158d3a919e6fdad73cea' });
    expect(manifest.valid).toMatchObject({ examples: 4, sha256: '12b6896c298aa8f6cf1189b2436e23cbe1f8b21246b4f91c1e10aec7904f041e' });
  });

  it('honours validRatio and records sha256 and bytes of both files', async () => {
    const path = writeDataset('ratio.jsonl', exampleLines(37));
    const manifest = await splitDatasetFile(path, { outDir: outDir(), seed: 1, validRatio: 0.3 });
    expect(manifest.valid.examples).toBe(11); // round(11.1)
    expect(manifest.train.examples).toBe(26);
    const { createHash } = await import('node:crypto');
    for (const side of [manifest.train, manifest.valid]) {
      const bytes = readFileSync(side.path);
      expect(side.bytes).toBe(bytes.length);
      expect(side.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });

  it('keeps duplicates on one side and reports no leakage', async () => {
    const lines = exampleLines(40);
    // Three groups of copies, one of them differing only by whitespace outside strings.
    const spaced = (lines[3] ?? '').replace(/":/g, '": ').replace(/,"/g, ', "');
    const withCopies = [...lines, lines[0] ?? '', lines[0] ?? '', lines[1] ?? '', spaced, lines[3] ?? ''];
    const path = writeDataset('dups.jsonl', withCopies);
    for (const seed of [1, 2, 3, 4, 5]) {
      const manifest = await splitDatasetFile(path, { outDir: outDir(), seed });
      expect(manifest.duplicates).toEqual({ groups: 3, keptTogether: 3, leakage: 0 });
      expect(manifest.train.examples + manifest.valid.examples).toBe(45);
      expect(manifest.valid.examples).toBe(9);
      const valid = new Set(linesOf(manifest.valid.path));
      const train = new Set(linesOf(manifest.train.path));
      for (const line of train) expect(valid.has(line)).toBe(false);
    }
  });

  it('normalises lines: no BOM, LF endings, no whitespace outside strings, strings and numbers byte for byte', async () => {
    const manifest = await splitDatasetFile(fixture('good/bom_crlf.jsonl'), { outDir: outDir(), seed: 3 });
    const written = readFileSync(manifest.train.path);
    expect(written.subarray(0, 3)).not.toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(written.includes('\r')).toBe(false);
    const raw = Buffer.from('{ "messages" : [ {"role":"user", "content":"a \\"quoted\\" \\u00e9  text"}, {"role": "assistant","content":"1.0"} ],\t"n": 1.0 }');
    expect(compactJsonLine(raw).toString()).toBe('{"messages":[{"role":"user","content":"a \\"quoted\\" \\u00e9  text"},{"role":"assistant","content":"1.0"}],"n":1.0}');
    const compact = Buffer.from('{"a":"b"}');
    expect(compactJsonLine(compact)).toBe(compact);
  });

  it('refuses a file with format errors, naming the line and code', async () => {
    await expect(splitDatasetFile(fixture('bad/missing_content.jsonl'), { outDir: outDir(), seed: 1 })).rejects.toThrow(/line 8 \[missing_content\]/);
    await expect(splitDatasetFile(fixture('bad/invalid_json.jsonl'), { outDir: outDir(), seed: 1 })).rejects.toThrow(/line 4 \[invalid_json\]/);
  });

  it('matches the training-side cost validation estimates for the same seed and ratio', async () => {
    const path = writeDataset('costed.jsonl', [...exampleLines(60), exampleLines(1)[0] ?? '']);
    const report = await validateDatasetFile(path, { model: 'gpt-4o-mini', validRatio: 0.2, seed: 11 });
    const manifest = await splitDatasetFile(path, { outDir: outDir(), seed: 11, validRatio: 0.2 });
    expect(report.cost.basis).toBe('train_split');
    expect(report.cost.trainSplit).toMatchObject({ examples: manifest.train.examples, validExamples: manifest.valid.examples, seed: 11, validRatio: 0.2 });
    const trainReport = await validateDatasetFile(manifest.train.path, { model: 'gpt-4o-mini' });
    expect(report.cost.trainSplit?.billingTokens).toBe(trainReport.tokens.billing);
    expect(report.epochs).toBe(trainReport.epochs);
    expect(report.chargedTokens).toBe(trainReport.chargedTokens);
    expect(report.estimatedCostUsd).toBe(trainReport.estimatedCostUsd);
    expect(report.cost.wholeFile.examples).toBe(61);
  });
});

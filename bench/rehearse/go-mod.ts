// Which release of a Go module this machine can `go install`: its go.mod asks for no newer Go than the local
// toolchain (GOTOOLCHAIN=local, so nothing is downloaded) and has no `replace` or `exclude` directive, which
// `go install module@version` refuses. Pure: the proxy is read elsewhere.

export interface GoModFacts {
  /** The `go` directive, e.g. "1.26.8"; null when absent (Go then assumes 1.16). */
  go: string | null;
  toolchain: string | null;
  /** How many `replace` directives (single or in a block). */
  replaces: number;
  /** How many `exclude` directives (single or in a block). */
  excludes: number;
}

/** Reads the directives that decide installability; comments and require blocks are skipped. */
export function goModFacts(text: string): GoModFacts {
  let go: string | null = null;
  let toolchain: string | null = null;
  let replaces = 0;
  let excludes = 0;
  let block: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (!line) continue;
    if (block) {
      if (line === ')') block = null;
      else if (block === 'replace') replaces += 1;
      else if (block === 'exclude') excludes += 1;
      continue;
    }
    const open = /^(\w+)\s*\($/.exec(line);
    if (open?.[1]) {
      block = open[1];
      continue;
    }
    const [verb, ...rest] = line.split(/\s+/);
    if (verb === 'go') go = rest[0] ?? null;
    else if (verb === 'toolchain') toolchain = rest[0] ?? null;
    else if (verb === 'replace') replaces += 1;
    else if (verb === 'exclude') excludes += 1;
  }
  return { go, toolchain, replaces, excludes };
}

/** "go1.26.8" or "1.26.8" or "1.26rc1" to comparable numbers [1, 26, 8]; pre-releases sort before the release. */
export function parseGoVersion(v: string): number[] {
  const m = /^(?:go)?(\d+)(?:\.(\d+))?(?:\.(\d+))?(rc\d+|beta\d+)?/.exec(v.trim());
  if (!m) throw new Error(`not a Go version: '${v}'`);
  const patch = m[3] !== undefined ? Number(m[3]) : m[4] ? -1 : 0;
  return [Number(m[1]), Number(m[2] ?? 0), patch];
}

export function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Module versions "v1.30.4" in semver order; pre-releases ("-rc.1") are left out. */
export function releasesInOrder(versions: string[]): string[] {
  const releases = versions.filter((v) => /^v\d+\.\d+\.\d+$/.test(v));
  return releases.sort((a, b) => compareVersions(a.slice(1).split('.').map(Number), b.slice(1).split('.').map(Number)));
}

export interface Installability {
  installable: boolean;
  why: string;
}

export function installableWith(facts: GoModFacts, localGo: string): Installability {
  if (facts.replaces > 0) return { installable: false, why: `${facts.replaces} replace directive(s)` };
  if (facts.excludes > 0) return { installable: false, why: `${facts.excludes} exclude directive(s)` };
  const needs = facts.go ?? '1.16';
  if (compareVersions(parseGoVersion(needs), parseGoVersion(localGo)) > 0) return { installable: false, why: `needs go ${needs} > ${localGo.replace(/^go/, '')}` };
  return { installable: true, why: `go ${needs} <= ${localGo.replace(/^go/, '')}, no replace or exclude` };
}

/** The newest release whose go.mod this toolchain can install, with the verdict on every release looked at. */
export function newestInstallable(goMods: Map<string, string>, localGo: string): { version: string | null; verdicts: Array<{ version: string } & GoModFacts & Installability> } {
  const verdicts = releasesInOrder([...goMods.keys()]).map((version) => {
    const facts = goModFacts(goMods.get(version) ?? '');
    return { version, ...facts, ...installableWith(facts, localGo) };
  });
  const version = [...verdicts].reverse().find((v) => v.installable)?.version ?? null;
  return { version, verdicts };
}

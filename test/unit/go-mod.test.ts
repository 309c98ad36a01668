import { describe, expect, it } from 'vitest';
import { goModFacts, installableWith, newestInstallable, parseGoVersion, releasesInOrder } from '../../bench/rehearse/go-mod';

// The go and replace lines of go.temporal.io/server releases as the module proxy serves them.
const goMod = (go: string, extra = ''): string => `module go.temporal.io/server\n\ngo ${go}\n\nretract (\n\tv1.26.1 // Contains retractions only.\n)\n\nrequire (\n\tgithub.com/x/y v1.0.0\n)\n${extra}`;
const releases = new Map([
  ['v1.29.1', goMod('1.25.0')],
  ['v1.30.4', goMod('1.25.8')],
  ['v1.30.7', goMod('1.25.14')],
  ['v1.30.9', goMod('1.26.10')],
  ['v1.31.4', goMod('1.26.8')],
  ['v1.32.1', goMod('1.26.8')],
  ['v1.32.2', goMod('1.26.10')],
]);

describe('which server release this machine can go install', () => {
  it('reads the go directive and counts replace directives, single and in a block, but not in comments or other blocks', () => {
    const text = goMod('1.26.8', 'replace a/b => ../b\n\nreplace (\n\tc/d => ../d\n\te/f v1.0.0 => e/f v1.0.1\n)\n// replace g/h => ../h\n');
    expect(goModFacts(text)).toEqual({ go: '1.26.8', toolchain: null, replaces: 3, excludes: 0 });
    expect(goModFacts(goMod('1.25.8')).replaces).toBe(0);
  });

  it('a go.mod that asks for a newer Go than the toolchain is not installable, the same Go is', () => {
    expect(installableWith(goModFacts(goMod('1.26.10')), 'go1.26.8')).toMatchObject({ installable: false, why: 'needs go 1.26.10 > 1.26.8' });
    expect(installableWith(goModFacts(goMod('1.26.8')), 'go1.26.8').installable).toBe(true);
  });

  it('a replace or exclude directive makes a release not installable whatever its Go', () => {
    expect(installableWith(goModFacts(goMod('1.20', 'replace a/b => ../b\n')), 'go1.26.8')).toMatchObject({ installable: false, why: '1 replace directive(s)' });
    // As docker/compose v5.6.0 has: go install refuses it too.
    const excluded = goModFacts(goMod('1.26.8', 'exclude (\n\t// why\n\tgithub.com/davecgh/go-spew v1.1.2-0.20180830191138-d8f796af33cc\n)\n'));
    expect(excluded.excludes).toBe(1);
    expect(installableWith(excluded, 'go1.26.8')).toMatchObject({ installable: false, why: '1 exclude directive(s)' });
  });

  it('picks the newest installable release, not the newest release', () => {
    expect(newestInstallable(releases, 'go1.26.8').version).toBe('v1.32.1');
    // On Go 1.25.8 to 1.25.13 the answer is v1.30.4, as issue 9 says of the machines it was written on.
    expect(newestInstallable(releases, 'go1.25.8').version).toBe('v1.30.4');
    expect(newestInstallable(releases, 'go1.24.0').version).toBeNull();
  });

  it('orders releases as versions, not as text, and leaves pre-releases out', () => {
    expect(releasesInOrder(['v1.9.0', 'v1.10.0-rc.1', 'v1.10.0', 'v1.2.3'])).toEqual(['v1.2.3', 'v1.9.0', 'v1.10.0']);
    expect(parseGoVersion('go1.26rc1')).toEqual([1, 26, -1]);
    expect(parseGoVersion('1.26')).toEqual([1, 26, 0]);
  });
});

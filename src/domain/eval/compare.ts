/** Per-example differences smaller than this are ties: scores are ratios of small integers, so
 * anything below it is floating-point noise, not a difference. */
export const TIE_EPSILON = 1e-9;

export interface WinsTiesLosses {
  wins: number;
  ties: number;
  losses: number;
}

/** Counts examples where the candidate scored above, equal to (|diff| < TIE_EPSILON) or below the base. */
export function winsTiesLosses(candidate: readonly number[], base: readonly number[]): WinsTiesLosses {
  if (candidate.length !== base.length) {
    throw new RangeError(`wins/ties/losses need paired scores, got ${candidate.length} and ${base.length}`);
  }
  const tally: WinsTiesLosses = { wins: 0, ties: 0, losses: 0 };
  candidate.forEach((c, i) => {
    const diff = c - (base[i] as number);
    if (Math.abs(diff) < TIE_EPSILON) tally.ties++;
    else if (diff > 0) tally.wins++;
    else tally.losses++;
  });
  return tally;
}

// Latency figures for the timeline: percentiles and histogram bins.

/** The p-th percentile (0..100) by linear interpolation between closest ranks; null for no samples. */
export function percentile(samples: readonly number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((x, y) => x - y);
  const rank = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export interface Bin {
  /** Inclusive lower bound, exclusive upper bound (the last bin includes its upper bound). */
  from: number;
  to: number;
  count: number;
}

/** Equal-width bins over [min, max] with a "nice" width (1, 2 or 5 × 10^n ms). */
export function histogram(samples: readonly number[], targetBins = 20): Bin[] {
  if (samples.length === 0) return [];
  const min = Math.min(...samples);
  const max = Math.max(...samples);
  const width = niceWidth((max - min) / targetBins);
  const start = Math.floor(min / width) * width;
  const count = Math.max(1, Math.floor((max - start) / width) + 1);
  const bins: Bin[] = Array.from({ length: count }, (_, i) => ({
    from: start + i * width,
    to: start + (i + 1) * width,
    count: 0,
  }));
  for (const value of samples) {
    const index = Math.min(count - 1, Math.floor((value - start) / width));
    bins[index]!.count++;
  }
  return bins;
}

function niceWidth(raw: number): number {
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const steps = [1, 2, 5, 10];
  const step = steps.find((s) => s * power >= raw) ?? 10;
  return Math.max(1, step * power);
}

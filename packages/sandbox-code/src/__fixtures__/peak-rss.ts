/**
 * How much this process's resident memory grew at most while `work` ran, in bytes (sampled every
 * 10 ms, and once more at the end). Tests use it to show that data is streamed, not held.
 */
export async function peakRssGrowth(work: () => Promise<void>): Promise<number> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const sampler = setInterval(sample, 10);
  try {
    await work();
  } finally {
    clearInterval(sampler);
    sample();
  }
  return peak - before;
}

/** The marker put where a capped stream lost its middle part. */
export const TRUNCATION_MARKER = '\n[... output truncated by @flyte/sandbox-code ...]\n';

/**
 * Keeps at most `limit` bytes of a stream: the first half and the last half, so the start of a
 * flood and its end (where the error usually is) both survive, and host memory stays bounded.
 * Secrets are masked in what is kept, also one the cut goes through: each half keeps
 * (longest secret - 1) bytes more than it shows, so a secret across a cut is seen whole.
 */
export class CappedOutput {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private readonly tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;
  private readonly secretBytes: Buffer[];
  /** How far past a cut a secret that starts before it can reach. */
  private readonly reach: number;

  constructor(
    private readonly limit: number,
    secrets: readonly string[] = [],
  ) {
    ({ secretBytes: this.secretBytes, reach: this.reach } = secretBytesOf(secrets));
  }

  /** Whether bytes were dropped. */
  get truncated(): boolean {
    return this.total > this.limit;
  }

  /** Adds a chunk, dropping from the middle once over the limit. */
  push(chunk: Buffer): void {
    this.total += chunk.length;
    const headKeep = Math.floor(this.limit / 2) + this.reach;
    let rest = chunk;
    if (this.headBytes < headKeep) {
      const take = rest.subarray(0, headKeep - this.headBytes);
      this.head.push(take);
      this.headBytes += take.length;
      rest = rest.subarray(take.length);
    }
    if (rest.length === 0) return;
    const tailKeep = this.limit - Math.floor(this.limit / 2) + this.reach;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    // Drop from the front of the tail, whole chunks first, without joining what is kept (a
    // flood would otherwise copy the whole tail on every chunk).
    while (this.tailBytes > tailKeep) {
      const first = this.tail[0] as Buffer;
      const excess = this.tailBytes - tailKeep;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
      }
    }
  }

  /** The kept text, secrets masked, with a marker where the middle was dropped. */
  text(): string {
    const head = Buffer.concat(this.head);
    const tail = Buffer.concat(this.tail);
    if (!this.truncated) return this.masked(Buffer.concat([head, tail]), 0, this.total);
    const headLimit = Math.floor(this.limit / 2);
    const tailLimit = this.limit - headLimit;
    // While nothing was dropped, head and tail are one stretch of the stream.
    const whole = head.length + tail.length === this.total;
    const after = whole ? Buffer.concat([head, tail]) : tail;
    const before = whole ? after : head;
    return (
      this.masked(before, 0, headLimit) +
      TRUNCATION_MARKER +
      this.masked(after, after.length - tailLimit, after.length)
    );
  }

  /** `bytes[from, to)` as text, with `***` for every secret in it or across either end. */
  private masked(bytes: Buffer, from: number, to: number): string {
    const parts: Buffer[] = [];
    let at = from;
    for (const [start, end] of secretRanges(bytes, this.secretBytes)) {
      if (end <= from || start >= to) continue;
      if (start > at) parts.push(bytes.subarray(at, start));
      parts.push(MASK);
      at = Math.min(end, to);
    }
    if (at < to) parts.push(bytes.subarray(at, to));
    return Buffer.concat(parts).toString('utf8');
  }
}

const MASK = Buffer.from('***');

/**
 * The secrets as bytes (empty ones dropped), and how many bytes short of the longest one a piece
 * of output may end while a secret across its end is still unseen.
 */
function secretBytesOf(secrets: readonly string[]): { secretBytes: Buffer[]; reach: number } {
  const secretBytes = secrets.filter((s) => s.length > 0).map((s) => Buffer.from(s));
  return { secretBytes, reach: Math.max(0, ...secretBytes.map((s) => s.length - 1)) };
}

/**
 * The stretches of `haystack` covered by any secret, merged where occurrences touch or overlap
 * (so a secret that is a prefix of, or overlaps, another cannot leave part of either visible).
 */
function secretRanges<T extends string | Buffer>(
  haystack: T,
  secrets: readonly T[],
): [number, number][] {
  const found: [number, number][] = [];
  for (const secret of secrets) {
    if (!secret.length) continue;
    for (
      let at = haystack.indexOf(secret as never);
      at !== -1;
      at = haystack.indexOf(secret as never, at + 1)
    ) {
      found.push([at, at + secret.length]);
    }
  }
  found.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of found) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/** Replaces every secret value in `text` with `***`. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const ranges = secretRanges(text, secrets);
  if (!ranges.length) return text;
  let masked = '';
  let from = 0;
  for (const [start, end] of ranges) {
    masked += `${text.slice(from, start)}***`;
    from = end;
  }
  return masked + text.slice(from);
}

/** The last `maxChars` characters of `text`, for error messages. */
export function tailOf(text: string, maxChars = 2000): string {
  return text.length <= maxChars ? text : `...${text.slice(text.length - maxChars)}`;
}

/**
 * Turns a byte stream into whole lines for a callback (masking secrets, which a chunk
 * boundary could otherwise split). A line longer than `maxLine` bytes is passed on in pieces,
 * cut where no secret straddles the cut and no UTF-8 character is split.
 */
export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private readonly secretBytes: Buffer[];
  /** How far past a cut a secret that starts before it can reach. */
  private readonly reach: number;

  constructor(
    private readonly emit: (text: string) => void,
    private readonly secrets: readonly string[],
    private readonly maxLine = 64 * 1024,
  ) {
    ({ secretBytes: this.secretBytes, reach: this.reach } = secretBytesOf(secrets));
  }

  /** Adds bytes; complete lines are emitted at once. */
  push(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10)) {
      this.emit(maskSecrets(data.subarray(0, nl + 1).toString('utf8'), this.secrets));
      data = data.subarray(nl + 1);
    }
    // Bytes up to `reach` past a cut are held back, so a secret across it is seen whole.
    while (data.length > this.maxLine + this.reach) {
      const cut = this.safeCut(data);
      this.emit(maskSecrets(data.subarray(0, cut).toString('utf8'), this.secrets));
      data = data.subarray(cut);
    }
    this.pending = Buffer.from(data);
  }

  /** Emits what is left (a last line without a newline). */
  flush(): void {
    if (this.pending.length) this.emit(maskSecrets(this.pending.toString('utf8'), this.secrets));
    this.pending = Buffer.alloc(0);
  }

  /** Where to cut a piece of at most `maxLine` bytes off the front of `data` (always > 0). */
  private safeCut(data: Buffer): number {
    let cut = this.maxLine;
    const window = data.subarray(0, cut + this.reach);
    const across = secretRanges(window, this.secretBytes).find(([s, e]) => s < cut && e > cut);
    // Cut before the secret, or after it when it starts the piece (a secret over maxLine).
    if (across) cut = across[0] > 0 ? across[0] : across[1];
    // Not inside a UTF-8 sequence (continuation bytes are 10xxxxxx).
    const atCharStart = (i: number) => ((data[i] ?? 0) & 0xc0) !== 0x80;
    let back = cut;
    while (back > 0 && back > cut - 4 && !atCharStart(back)) back--;
    return back > 0 && atCharStart(back) ? back : cut;
  }
}

/** The marker put where a capped stream lost its middle part. */
export const TRUNCATION_MARKER = '\n[... output truncated by @flyte/sandbox-code ...]\n';

/**
 * Keeps at most `limit` bytes of a stream: the first half and the last half, so the start of a
 * flood and its end (where the error usually is) both survive, and host memory stays bounded.
 */
export class CappedOutput {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private readonly tail: Buffer[] = [];
  private tailBytes = 0;
  /** Whether bytes were dropped. */
  truncated = false;

  constructor(private readonly limit: number) {}

  /** Adds a chunk, dropping from the middle once over the limit. */
  push(chunk: Buffer): void {
    const headLimit = Math.floor(this.limit / 2);
    let rest = chunk;
    if (this.headBytes < headLimit) {
      const take = rest.subarray(0, headLimit - this.headBytes);
      this.head.push(take);
      this.headBytes += take.length;
      rest = rest.subarray(take.length);
    }
    if (rest.length === 0) return;
    const tailLimit = this.limit - headLimit;
    this.tail.push(rest);
    this.tailBytes += rest.length;
    // Drop from the front of the tail, whole chunks first, without joining what is kept (a
    // flood would otherwise copy the whole tail on every chunk).
    while (this.tailBytes > tailLimit) {
      this.truncated = true;
      const first = this.tail[0] as Buffer;
      const excess = this.tailBytes - tailLimit;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
      }
    }
  }

  /** The kept text, with a marker where the middle was dropped. */
  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = Buffer.concat(this.tail).toString('utf8');
    return this.truncated ? `${head}${TRUNCATION_MARKER}${tail}` : head + tail;
  }
}

/** Replaces every secret value in `text` with `***`. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of secrets) if (secret) masked = masked.split(secret).join('***');
  return masked;
}

/** The last `maxChars` characters of `text`, for error messages. */
export function tailOf(text: string, maxChars = 2000): string {
  return text.length <= maxChars ? text : `...${text.slice(text.length - maxChars)}`;
}

/**
 * Turns a byte stream into whole lines for a callback (masking secrets, which a chunk
 * boundary could otherwise split). A line longer than `maxLine` bytes is passed on in pieces.
 */
export class LineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly emit: (text: string) => void,
    private readonly secrets: readonly string[],
    private readonly maxLine = 64 * 1024,
  ) {}

  /** Adds bytes; complete lines are emitted at once. */
  push(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10)) {
      this.emit(maskSecrets(data.subarray(0, nl + 1).toString('utf8'), this.secrets));
      data = data.subarray(nl + 1);
    }
    while (data.length > this.maxLine) {
      this.emit(maskSecrets(data.subarray(0, this.maxLine).toString('utf8'), this.secrets));
      data = data.subarray(this.maxLine);
    }
    this.pending = Buffer.from(data);
  }

  /** Emits what is left (a last line without a newline). */
  flush(): void {
    if (this.pending.length) this.emit(maskSecrets(this.pending.toString('utf8'), this.secrets));
    this.pending = Buffer.alloc(0);
  }
}

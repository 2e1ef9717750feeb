import { PassThrough } from 'node:stream';

/** The report line the run script prints after the program: exit code and OOM kills. */
export interface RunStatus {
  exitCode: number;
  oomKills: number;
  /** The run script could not unpack the inputs, so the program never ran. */
  unpackFailed: boolean;
}

/**
 * Passes a byte stream on until a marker, which may arrive cut across chunks. Only a tail that
 * could be the start of the marker is held back, so ordinary output streams on at once.
 */
export class MarkerScanner {
  private carry: Buffer = Buffer.alloc(0);
  /** Whether the marker was seen (bytes after it are returned by `push`, not passed on). */
  found = false;

  constructor(
    private readonly marker: Buffer,
    private readonly onData: (chunk: Buffer) => void,
  ) {}

  /** Feeds bytes; once the marker is found, returns the bytes that followed it. */
  push(chunk: Buffer): Buffer | undefined {
    if (this.found) return chunk;
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const at = data.indexOf(this.marker);
    if (at === -1) {
      const keep = this.partialMarkerAtEnd(data);
      if (data.length > keep) this.onData(data.subarray(0, data.length - keep));
      this.carry = Buffer.from(data.subarray(data.length - keep));
      return undefined;
    }
    if (at > 0) this.onData(data.subarray(0, at));
    this.carry = Buffer.alloc(0);
    this.found = true;
    return data.subarray(at + this.marker.length);
  }

  /** Passes on what was held back (the stream ended without the marker). */
  flush(): void {
    if (this.carry.length) this.onData(this.carry);
    this.carry = Buffer.alloc(0);
  }

  private partialMarkerAtEnd(data: Buffer): number {
    for (let k = Math.min(data.length, this.marker.length - 1); k > 0; k--) {
      if (data[data.length - k] !== this.marker[0]) continue;
      if (data.subarray(data.length - k).equals(this.marker.subarray(0, k))) return k;
    }
    return 0;
  }
}

/**
 * Splits a run's stdout as the run script frames it:
 * `<program stdout><marker> <exit code> <OOM kills>\n<tar of /var/outputs, if asked><marker>\n`.
 * The tar stream goes to `outputs` as it arrives (nothing else holds it: `push` reports when
 * `outputs` is full, so the caller can pause its source until `outputs` drains); `done`
 * resolves when the closing marker arrived, which is before the container has finished exiting.
 */
export class RunFrameSplitter {
  private state: 'program' | 'status' | 'outputs' | 'done' = 'program';
  private statusLine = '';
  private readonly program: MarkerScanner;
  private readonly tar: MarkerScanner;
  private resolveDone: () => void = () => undefined;
  /** The tar stream of /var/outputs. */
  readonly outputs = new PassThrough();
  /** The status, once its line arrived. */
  status: RunStatus | undefined;
  /** Resolves when the whole frame arrived. */
  readonly done = new Promise<void>((resolve) => {
    this.resolveDone = resolve;
  });

  /**
   * @param onStatus - Called when the status line arrived, before any output byte is passed on
   * (for example to start reading `outputs`, or to destroy it so the bytes are dropped).
   */
  constructor(
    marker: string,
    onProgramStdout: (chunk: Buffer) => void,
    private readonly onStatus?: (status: RunStatus) => void,
  ) {
    this.program = new MarkerScanner(Buffer.from(marker), onProgramStdout);
    this.tar = new MarkerScanner(Buffer.from(marker), (chunk) => {
      if (!this.outputs.destroyed) this.outputs.write(chunk);
    });
  }

  /**
   * Feeds a chunk of the run's stdout. Returns false when `outputs` holds more than its
   * high-water mark: the caller should wait for its `drain` (or `close`) before feeding more.
   */
  push(chunk: Buffer): boolean {
    let rest: Buffer | undefined = chunk;
    if (this.state === 'program') {
      rest = this.program.push(rest);
      if (!rest) return true;
      this.state = 'status';
    }
    if (this.state === 'status') {
      const newline = rest.indexOf(10);
      if (newline === -1) {
        this.statusLine += rest.toString('latin1');
        return true;
      }
      this.statusLine += rest.subarray(0, newline).toString('latin1');
      const [exitCode, oomKills, flag] = this.statusLine.trim().split(/\s+/);
      this.status = {
        exitCode: exitCode === undefined ? -1 : Number(exitCode),
        oomKills: oomKills === undefined ? 0 : Number(oomKills),
        unpackFailed: flag === 'unpack',
      };
      this.state = 'outputs';
      rest = rest.subarray(newline + 1);
      this.onStatus?.(this.status);
    }
    if (this.state === 'outputs' && this.tar.push(rest) !== undefined) {
      this.state = 'done';
      this.outputs.end();
      this.resolveDone();
    }
    return this.outputs.destroyed || !this.outputs.writableNeedDrain;
  }

  /** The stream ended: passes on what was held back and ends the outputs stream. */
  end(): void {
    if (this.state === 'program') this.program.flush();
    if (this.state === 'outputs') this.tar.flush();
    if (!this.outputs.writableEnded) this.outputs.end();
    this.resolveDone();
  }
}

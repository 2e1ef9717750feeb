/** One recorded host call. `args` and `result` are JSON text as they crossed the boundary. */
export interface JournalEntry {
  /** The call's position in the run: calls are numbered in the order the code made them. */
  sequence: number;
  task: string;
  /** JSON text of the arguments. */
  args: string;
  /** JSON text of the result, when the call succeeded. */
  result?: string;
  /** The error, when the call failed. */
  error?: { name: string; message: string };
}

/**
 * The durable record of a run: plain JSON (`JSON.stringify` it anywhere, `JSON.parse` it back).
 * Pass the same object to `run(inputs, { journal })` to record; pass a recorded one to replay its
 * calls without running the tasks again and continue live from where it stopped.
 */
export interface Journal {
  version: 1;
  /** JSON text of the inputs the journal was recorded with; a replay must use the same. */
  inputs?: string;
  /** Settled calls, in the order they settled. */
  calls: JournalEntry[];
}

/** A new, empty journal. */
export function createJournal(): Journal {
  return { version: 1, calls: [] };
}

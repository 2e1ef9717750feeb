// One wait per stream, however many writes find it full: a listener pair per chunk would pile
// up (MaxListenersExceededWarning) while the stream's reader is slower than its writer.
const pending = new WeakMap<NodeJS.EventEmitter, Promise<void>>();

/**
 * Resolves when `stream` can take more (it drained) or never will again (it closed). Callers
 * waiting on one stream at once share one promise and one pair of listeners.
 */
export function drained(stream: NodeJS.EventEmitter): Promise<void> {
  const waiting = pending.get(stream);
  if (waiting) return waiting;
  const wait = new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      pending.delete(stream);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
  pending.set(stream, wait);
  return wait;
}

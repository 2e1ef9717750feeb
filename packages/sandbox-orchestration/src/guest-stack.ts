import type { CompiledSource } from './validate';

/** The file name orchestrator code is compiled under in QuickJS. */
export const GUEST_FILE = 'orchestrator.js';
/** The file name of the trusted prelude. */
export const PRELUDE_FILE = 'prelude.js';

const FRAME = /\(orchestrator\.js:(\d+):(\d+)\)/;

/** Maps guest stack frames to `name:line:column` in the user's source; drops the prelude's. */
export function mapGuestStack(name: string, compiled: CompiledSource, stack: string): string {
  return stack
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.includes(PRELUDE_FILE))
    .map((line) =>
      line.replace(FRAME, (_, l: string, c: string) => {
        const p = compiled.toSourcePosition(Number(l), Number(c));
        return `(${name}:${p.line}:${p.column})`;
      }),
    )
    .join('\n');
}

/** The first position in the user's source on a guest stack. */
export function firstSourcePosition(
  compiled: CompiledSource,
  stack: string,
): { line: number; column: number } | undefined {
  const match = FRAME.exec(stack);
  if (!match) return undefined;
  return compiled.toSourcePosition(Number(match[1]), Number(match[2]));
}

// Alone in its file so that it gets a freshly loaded WebAssembly module (16 MiB, never grown).
import { expect, it } from 'vitest';
import { SandboxLimitError } from './errors';
import { orchestrateLocal } from './orchestrator';

it('ends a run whose WebAssembly memory growth passes the limit, though QuickJS counts less', async () => {
  // Large strings escape QuickJS's own memory count (setMemoryLimit alone lets this finish).
  const source =
    "const keep = []\nfor (let i = 1; i < 30; i++) { keep.push('x'.repeat(1 << 20) + i) }\nkeep.length";
  const error = await orchestrateLocal(source, { limits: { memoryBytes: 8 << 20 } }).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SandboxLimitError);
  expect(error).toMatchObject({ limit: 'memoryBytes', value: 8 << 20 });
  expect((error as Error).message).toMatch(/WebAssembly memory grew/);
  expect(await orchestrateLocal('1 + 1')).toBe(2);
}, 60_000);

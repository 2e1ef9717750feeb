// Child process for journal.test.ts: runs a five-step orchestrator from the built package.
// argv: <first|resume> <journal file> <log file>. "first" aborts the run after step 3 and
// writes the journal; "resume" replays that journal and prints the output.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createJournal, orchestrateLocal } from '../../dist/index.js';

const [mode, journalFile, logFile] = process.argv.slice(2);
const controller = new AbortController();
const journal = mode === 'resume' ? JSON.parse(readFileSync(journalFile, 'utf8')) : createJournal();
const step = async (i) => {
  appendFileSync(logFile, `${process.pid} step ${i}\n`);
  if (mode === 'first' && i === 3) controller.abort(new Error('stopped after step 3'));
  return i * 10;
};
const source = 'let total = 0\nfor (let i = 1; i <= 5; i++) { total += await step(i) }\ntotal';
try {
  const output = await orchestrateLocal(source, { inputs: { base: 1 }, tasks: { step }, journal, signal: controller.signal });
  process.stdout.write(JSON.stringify({ output }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: error.message }));
} finally {
  writeFileSync(journalFile, JSON.stringify(journal));
}

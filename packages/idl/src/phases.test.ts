import { describe, expect, it, vi } from 'vitest';
import { isTerminalPhase, Phase, phaseFromState } from './phases';

describe('phaseFromState', () => {
  it.each([
    ['DONE', Phase.SUCCEEDED],
    ['succeeded', Phase.SUCCEEDED],
    ['SUCCESS', Phase.SUCCEEDED],
    ['Completed', Phase.SUCCEEDED],
    ['FAILED', Phase.FAILED],
    ['error', Phase.FAILED],
    ['TIMEOUT', Phase.FAILED],
    ['TIMED_OUT', Phase.FAILED],
    ['timedout', Phase.FAILED],
    ['CANCELLED', Phase.ABORTED],
    ['canceled', Phase.ABORTED],
    ['RUNNING', Phase.RUNNING],
    ['terminating', Phase.RUNNING],
    ['EXECUTING', Phase.RUNNING],
    ['PENDING', Phase.QUEUED],
    ['QUEUED', Phase.QUEUED],
    ['resuming', Phase.QUEUED],
    ['BLOCKED', Phase.QUEUED],
    ['scheduled', Phase.QUEUED],
    ['Waiting', Phase.QUEUED],
  ])('maps %s', (state, phase) => {
    expect(phaseFromState(state)).toBe(phase);
  });

  it('maps an unknown state to a non-terminal phase and reports it once', () => {
    const onUnknownState = vi.fn();
    expect(phaseFromState('REHYDRATING_FROM_GLACIER', { onUnknownState })).toBe(Phase.RUNNING);
    expect(phaseFromState('rehydrating_from_glacier', { onUnknownState })).toBe(Phase.RUNNING);
    expect(isTerminalPhase(phaseFromState('REHYDRATING_FROM_GLACIER', { onUnknownState }))).toBe(
      false,
    );
    expect(onUnknownState).toHaveBeenCalledTimes(1);
    expect(onUnknownState.mock.calls[0]?.[1]).toContain('REHYDRATING_FROM_GLACIER');
  });

  it('emits a process warning when no handler is given', () => {
    const warnings: string[] = [];
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation((w) => {
      warnings.push(String(w));
    });
    try {
      phaseFromState('PONDERING');
      phaseFromState('PONDERING');
    } finally {
      spy.mockRestore();
    }
    expect(warnings).toEqual([expect.stringContaining('"PONDERING"')]);
  });
});

describe('isTerminalPhase', () => {
  it('is true only for phases after which the job cannot change', () => {
    const terminal = Object.values(Phase)
      .filter((p): p is Phase => typeof p === 'number')
      .filter(isTerminalPhase);
    expect(terminal.sort()).toEqual(
      [Phase.SUCCEEDED, Phase.ABORTED, Phase.FAILED, Phase.RETRYABLE_FAILED].sort(),
    );
  });
});

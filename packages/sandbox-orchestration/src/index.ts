export {
  type GuestPosition,
  NondeterminismError,
  OrchestratorError,
  OrchestratorValidationError,
  SandboxLimitError,
  type SandboxLimitName,
  type SourceDiagnostic,
} from './errors';
export { createJournal, type Journal, type JournalEntry } from './journal';
export { DEFAULT_LIMITS, type OrchestratorLimits } from './limits';
export {
  ORCHESTRATOR_TASK_TYPE,
  type OrchestrateLocalOptions,
  type Orchestrator,
  type OrchestratorIsolation,
  type OrchestratorOptions,
  type OrchestratorOutputs,
  type OrchestratorPoolOptions,
  type OrchestratorRunOptions,
  orchestrateLocal,
  orchestrator,
} from './orchestrator';
export { ALLOWED_GLOBALS, ORCHESTRATOR_SYNTAX_GUIDE } from './syntax-guide';
export type { CallableTask, OrchestratorTask } from './task-adapter';

// For tools that check code before creating an orchestrator (editors, code-writing models)
export {
  type CompiledSource,
  type ValidationContext,
  validateOrchestratorSource,
} from './validate';

// The task contract

export { captureDefinitionSite, type DefinitionSite, mapThroughSourceMap } from './definition-site';
// Errors (every @flyte package subclasses FlyteError)
export {
  FlyteError,
  type FlyteErrorOptions,
  LiteralConversionError,
  UnsupportedSchemaError,
} from './errors';
export {
  type BlobReference,
  bytes,
  dataFrameRef,
  dirRef,
  duration,
  type FlyteKind,
  fileRef,
  flyteKinds,
} from './flyte-types';
// Literal conversion
export {
  type AnyObjectSchema,
  fromInputs,
  fromLiteral,
  fromOutputs,
  literalTypeOf,
  type TaskInterface,
  toInputs,
  toLiteral,
  toOutputs,
  typedInterfaceOf,
} from './literals';
// Phases
export { isTerminalPhase, Phase, type PhaseFromStateOptions, phaseFromState } from './phases';
export {
  createTaskTemplate,
  type DefineTaskOptions,
  defineTask,
  SDK_VERSION,
  type TaskDefinition,
  type TaskRunOptions,
  type TaskTemplateContext,
  type TaskTemplateExtras,
} from './task-definition';
export { InvalidTaskIoError, parseTaskIo, type TaskIoBoundary, zodIssueLines } from './task-io';

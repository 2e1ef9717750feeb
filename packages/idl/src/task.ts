/**
 * The `flyteidl2.task` messages (`Inputs`, `Outputs`, `NamedLiteral`, task specs and the task
 * service), re-exported from the official generated schemas in `@flyteorg/flyteidl2`.
 *
 * @packageDocumentation
 */
export * from '@flyteorg/flyteidl2/flyteidl2/task/common_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/task/environment_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/task/run_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/task/task_definition_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/task/task_service_pb.ts';

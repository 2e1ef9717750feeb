/**
 * The `flyteidl2.core` messages (task templates, literals, types, interfaces, identifiers,
 * execution phases, security), re-exported from the official generated schemas in
 * `@flyteorg/flyteidl2` and compiled into this package so consumers need no TypeScript loader.
 *
 * @packageDocumentation
 */
export * from '@flyteorg/flyteidl2/flyteidl2/core/artifact_id_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/core/catalog_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/core/execution_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/core/identifier_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/core/interface_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/core/literals_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/core/metrics_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/core/security_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/core/tasks_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/core/types_pb.ts';

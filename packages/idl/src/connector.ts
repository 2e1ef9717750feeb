/**
 * The `flyteidl2.connector` messages and both services (`AsyncConnectorService`,
 * `ConnectorMetadataService`), re-exported from the official generated schemas in
 * `@flyteorg/flyteidl2`, so a connector server speaks exactly what a Flyte 2 cluster speaks.
 *
 * @packageDocumentation
 */
export * from '@flyteorg/flyteidl2/flyteidl2/connector/connector_pb.ts';
export * from '@flyteorg/flyteidl2/flyteidl2/connector/service_pb.ts';

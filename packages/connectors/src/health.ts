import { create, createFileRegistry, type Message } from '@bufbuild/protobuf';
import type { GenEnum, GenMessage, GenService } from '@bufbuild/protobuf/codegenv1';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from '@bufbuild/protobuf/wkt';

// The standard gRPC health service (grpc/health/v1/health.proto). No npm package ships it for
// @bufbuild/protobuf v2 (the existing ones are generated for @grpc/grpc-js or protobuf-es v1),
// and it is four messages long and frozen since 2016, so we build its descriptor here with
// protobuf-es's own descriptor types rather than vendoring generated code or hand-written
// .proto text. Field names, numbers and the enum values are exactly those of the .proto file.

const { STRING: TYPE_STRING, ENUM: TYPE_ENUM } = FieldDescriptorProto_Type;
const { OPTIONAL } = FieldDescriptorProto_Label;

const healthFile = create(FileDescriptorProtoSchema, {
  name: 'grpc/health/v1/health.proto',
  package: 'grpc.health.v1',
  syntax: 'proto3',
  messageType: [
    {
      name: 'HealthCheckRequest',
      field: [
        { name: 'service', jsonName: 'service', number: 1, type: TYPE_STRING, label: OPTIONAL },
      ],
    },
    {
      name: 'HealthCheckResponse',
      field: [
        {
          name: 'status',
          jsonName: 'status',
          number: 1,
          type: TYPE_ENUM,
          typeName: '.grpc.health.v1.HealthCheckResponse.ServingStatus',
          label: OPTIONAL,
        },
      ],
      enumType: [
        {
          name: 'ServingStatus',
          value: [
            { name: 'UNKNOWN', number: 0 },
            { name: 'SERVING', number: 1 },
            { name: 'NOT_SERVING', number: 2 },
            { name: 'SERVICE_UNKNOWN', number: 3 },
          ],
        },
      ],
    },
  ],
  service: [
    {
      name: 'Health',
      method: [
        {
          name: 'Check',
          inputType: '.grpc.health.v1.HealthCheckRequest',
          outputType: '.grpc.health.v1.HealthCheckResponse',
        },
        {
          name: 'Watch',
          inputType: '.grpc.health.v1.HealthCheckRequest',
          outputType: '.grpc.health.v1.HealthCheckResponse',
          serverStreaming: true,
        },
      ],
    },
  ],
});

const registry = createFileRegistry(healthFile, () => undefined);

/** `grpc.health.v1.HealthCheckResponse.ServingStatus`. */
export enum ServingStatus {
  UNKNOWN = 0,
  SERVING = 1,
  NOT_SERVING = 2,
  SERVICE_UNKNOWN = 3,
}

/** `grpc.health.v1.HealthCheckRequest`: `service` empty means the whole server. */
export type HealthCheckRequest = Message<'grpc.health.v1.HealthCheckRequest'> & { service: string };
/** `grpc.health.v1.HealthCheckResponse`. */
export type HealthCheckResponse = Message<'grpc.health.v1.HealthCheckResponse'> & {
  status: ServingStatus;
};

/** Descriptor of `grpc.health.v1.HealthCheckRequest`. */
export const HealthCheckRequestSchema = registry.getMessage(
  'grpc.health.v1.HealthCheckRequest',
) as GenMessage<HealthCheckRequest>;
/** Descriptor of `grpc.health.v1.HealthCheckResponse`. */
export const HealthCheckResponseSchema = registry.getMessage(
  'grpc.health.v1.HealthCheckResponse',
) as GenMessage<HealthCheckResponse>;
/** Descriptor of `grpc.health.v1.HealthCheckResponse.ServingStatus`. */
export const ServingStatusSchema = registry.getEnum(
  'grpc.health.v1.HealthCheckResponse.ServingStatus',
) as GenEnum<ServingStatus>;

/** `grpc.health.v1.Health`, for a server (`router.service`) or a client (`createClient`). */
export const HealthService = registry.getService('grpc.health.v1.Health') as GenService<{
  check: {
    methodKind: 'unary';
    input: typeof HealthCheckRequestSchema;
    output: typeof HealthCheckResponseSchema;
  };
  watch: {
    methodKind: 'server_streaming';
    input: typeof HealthCheckRequestSchema;
    output: typeof HealthCheckResponseSchema;
  };
}>;

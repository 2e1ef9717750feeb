import { describe, expect, it } from 'vitest';
import { ConnectorRegistry, defaultRegistry } from './connector-registry';
import {
  ConnectorNotFoundError,
  DuplicateConnectorError,
  InvalidResourceMetaError,
} from './errors';
import { FakeJobConnector } from './fake-job-connector';
import { decodeResourceMeta, encodeResourceMeta } from './resource-meta';

describe('ConnectorRegistry', () => {
  it('finds a connector by task type and version', () => {
    const v0 = new FakeJobConnector();
    const v1 = Object.assign(new FakeJobConnector(), { taskTypeVersion: 1 });
    const registry = new ConnectorRegistry().register(v0).register(v1);
    expect(registry.getConnector('fake_job')).toBe(v0);
    expect(registry.getConnector('fake_job', 1)).toBe(v1);
    expect(registry.listConnectors()).toHaveLength(1);
    expect(
      registry
        .getConnectorMetadata('Fake job connector')
        .supportedTaskCategories.map((c) => [c.name, c.version]),
    ).toEqual([
      ['fake_job', 0],
      ['fake_job', 1],
    ]);
  });

  it('refuses a duplicate task type unless override is set', () => {
    const registry = new ConnectorRegistry().register(new FakeJobConnector({ name: 'A' }));
    expect(() => registry.register(new FakeJobConnector({ name: 'B' }))).toThrow(
      DuplicateConnectorError,
    );
    expect(() => registry.register(new FakeJobConnector({ name: 'B' }))).toThrow(
      /already served by connector "A"; cannot also register "B"/,
    );
    const b = new FakeJobConnector({ name: 'B' });
    registry.register(b, { override: true });
    expect(registry.getConnector('fake_job')).toBe(b);
  });

  it('says what is registered when nothing matches', () => {
    const registry = new ConnectorRegistry().register(new FakeJobConnector());
    expect(() => registry.getConnector('bigquery')).toThrow(ConnectorNotFoundError);
    expect(() => registry.getConnector('bigquery')).toThrow(/Registered: fake_job@v0/);
    expect(() => registry.getConnectorMetadata('nope')).toThrow(
      /No connector named "nope". Registered: Fake job connector/,
    );
  });

  it('keeps registries apart', () => {
    new ConnectorRegistry().register(new FakeJobConnector({ taskTypeName: 'isolated_type' }));
    expect(defaultRegistry.has('isolated_type')).toBe(false);
  });
});

describe('resource meta bytes', () => {
  const connector = new FakeJobConnector();

  it('is UTF-8 JSON, as Python connectors write it, and decodes across instances', () => {
    const bytes = encodeResourceMeta({ jobId: 'j-1', region: 'eu' }, 'x');
    expect(new TextDecoder().decode(bytes)).toBe('{"jobId":"j-1","region":"eu"}');
    // What json.dumps(asdict(meta)).encode("utf-8") produces in Python (note the spaces).
    const fromPython = new TextEncoder().encode('{"jobId": "j-7"}');
    expect(new FakeJobConnector().decodeMeta(fromPython)).toEqual({ jobId: 'j-7' });
  });

  it('fails clearly, naming the connector, on bytes that do not fit', () => {
    expect(() => connector.decodeMeta(new Uint8Array([0xc3, 0x28]))).toThrow(
      /"Fake job connector": resource_meta \(2 bytes\) is not UTF-8/,
    );
    expect(() => connector.decodeMeta(new TextEncoder().encode('{oops'))).toThrow(/is not JSON/);
    expect(() => connector.decodeMeta(new TextEncoder().encode('{"jobId": 5}'))).toThrow(
      /does not match its metadata schema: meta.jobId: /,
    );
    expect(() =>
      decodeResourceMeta(new TextEncoder().encode('{}'), connector.metadataSchema, 'C'),
    ).toThrow(InvalidResourceMetaError);
  });

  it('refuses metadata that is not a JSON object', () => {
    expect(() => encodeResourceMeta(5, 'C')).toThrow(/must be a JSON object, got 5/);
    expect(() => encodeResourceMeta({ n: 1n }, 'C')).toThrow(/cannot be encoded as JSON/);
  });
});

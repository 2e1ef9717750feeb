import { defineConfig, type Options } from 'tsup';

/** What a package may add to the shared build: only which dependencies to compile in. */
export interface FlytePackageBuildOptions {
  /** Dependencies bundled into dist (code and declarations) instead of imported at run time. */
  noExternal?: (string | RegExp)[];
  /** Module paths the declaration build resolves elsewhere (tsconfig `paths` form). */
  declarationPaths?: Record<string, string[]>;
}

/**
 * The one build configuration every `@flyte/*` package uses: ESM and CJS side by side,
 * bundled declaration files for each, and source maps. A package's `tsup.config.ts` only
 * names its entry points (and, rarely, which dependencies to compile in).
 */
export function defineFlytePackage(
  entry: Record<string, string>,
  options: FlytePackageBuildOptions = {},
): Options {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: {
      // tsup's declaration build sets `baseUrl`, which TypeScript 6 reports as deprecated.
      compilerOptions: {
        ignoreDeprecations: '6.0',
        ...(options.declarationPaths ? { paths: options.declarationPaths } : {}),
      },
      ...(options.noExternal ? { resolve: options.noExternal } : {}),
    },
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    // Shared chunks in both formats, so a subpath entry and the main entry use the same
    // module instances (one set of protobuf descriptors, one error class per name).
    splitting: true,
    treeshake: true,
    ...(options.noExternal ? { noExternal: options.noExternal } : {}),
  }) as Options;
}

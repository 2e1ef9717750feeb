import { type IoManifest, isPathKind } from './io-kinds';

/** Languages code mode and verbatim mode understand. */
export type SandboxLanguage = 'python' | 'javascript' | 'bash';

// The code-mode drivers below are constant programs. They receive the input/output manifest
// and the user's code as argv entries and read input values from /var/inputs files, so no
// value is ever pasted into a program or a shell string.

const PYTHON_DRIVER = `import sys, os, json, datetime, shutil
manifest = json.loads(sys.argv[1])
IN, OUT = '/var/inputs', '/var/outputs'
def _read(name, kind):
    path = os.path.join(IN, name)
    if kind in ('file', 'dir'):
        return path
    if kind == 'bytes':
        with open(path, 'rb') as f:
            return f.read()
    with open(path, encoding='utf-8') as f:
        text = f.read()
    if kind == 'string':
        return text
    if kind == 'integer':
        return int(text)
    if kind == 'number':
        return float(text)
    if kind == 'boolean':
        return text == 'true'
    if kind == 'datetime':
        return datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    if kind == 'duration':
        return datetime.timedelta(milliseconds=float(text))
    return json.loads(text)
def _write(name, kind, value):
    path = os.path.join(OUT, name)
    if kind in ('file', 'dir'):
        source = os.fspath(value)
        if os.path.abspath(source) != path:
            if kind == 'dir':
                shutil.copytree(source, path)
            else:
                shutil.copyfile(source, path)
        return
    if kind == 'bytes':
        with open(path, 'wb') as f:
            f.write(bytes(value))
        return
    if kind == 'string':
        text = str(value)
    elif kind == 'boolean':
        text = 'true' if value else 'false'
    elif kind == 'datetime':
        text = value.isoformat()
    elif kind == 'duration':
        text = repr(value.total_seconds() * 1000 if isinstance(value, datetime.timedelta) else float(value))
    else:
        text = json.dumps(value)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
scope = {'__name__': '__main__'}
for name, kind in manifest['inputs'].items():
    scope[name] = _read(name, kind) if os.path.lexists(os.path.join(IN, name)) else None
exec(compile(sys.argv[2], '<sandbox>', 'exec'), scope)
for name, kind in manifest['outputs'].items():
    if name in scope and scope[name] is not None and not os.path.lexists(os.path.join(OUT, name)):
        _write(name, kind, scope[name])
`;

// Wrapped in a function so none of its names share the global scope with the user's script
// (which runs as a script there: its top-level let/const must not clash with the driver's).
const JAVASCRIPT_DRIVER = `(() => {
  const fs = require('node:fs'), path = require('node:path'), vm = require('node:vm');
  const manifest = JSON.parse(process.argv[1]);
  const IN = '/var/inputs', OUT = '/var/outputs';
  const read = (name, kind) => {
    const p = path.join(IN, name);
    if (kind === 'file' || kind === 'dir') return p;
    if (kind === 'bytes') return fs.readFileSync(p);
    const text = fs.readFileSync(p, 'utf8');
    switch (kind) {
      case 'string': return text;
      case 'integer': { const n = Number(text); return Number.isSafeInteger(n) ? n : BigInt(text); }
      case 'number': case 'duration': return Number(text);
      case 'boolean': return text === 'true';
      case 'datetime': return new Date(text);
      default: return JSON.parse(text);
    }
  };
  const write = (name, kind, value) => {
    const p = path.join(OUT, name);
    if (kind === 'file' || kind === 'dir') {
      if (path.resolve(String(value)) !== p) fs.cpSync(String(value), p, { recursive: kind === 'dir' });
      return;
    }
    if (kind === 'bytes') return fs.writeFileSync(p, value);
    let text;
    if (kind === 'string') text = String(value);
    else if (kind === 'boolean') text = value ? 'true' : 'false';
    else if (kind === 'datetime') text = new Date(value).toISOString();
    else if (kind === 'integer' || kind === 'number' || kind === 'duration') text = String(value);
    else text = JSON.stringify(value);
    fs.writeFileSync(p, text);
  };
  for (const [name, kind] of Object.entries(manifest.inputs)) {
    globalThis[name] = fs.existsSync(path.join(IN, name)) ? read(name, kind) : undefined;
  }
  globalThis.require = require;
  vm.runInThisContext(process.argv[2], { filename: 'sandbox.js' });
  for (const [name, kind] of Object.entries(manifest.outputs)) {
    // Top-level let/const of the script live in the global lexical scope: read them by name.
    const value = vm.runInThisContext('typeof ' + name + " === 'undefined' ? undefined : " + name);
    if (value !== undefined && value !== null && !fs.existsSync(path.join(OUT, name))) write(name, kind, value);
  }
})();
`;

function bashDriver(manifest: { inputs: IoManifest; outputs: IoManifest }): string {
  // Names are checked identifiers (isIoName), so they can be part of the program; values cannot.
  const lines: string[] = [];
  for (const [name, kind] of Object.entries(manifest.inputs)) {
    lines.push(
      isPathKind(kind)
        ? `${name}=/var/inputs/${name}`
        : `if [ -e /var/inputs/${name} ]; then IFS= read -r -d '' ${name} < /var/inputs/${name}; fi`,
    );
  }
  lines.push('eval "$1"', '__flyte_status=$?');
  for (const [name, kind] of Object.entries(manifest.outputs)) {
    const write = isPathKind(kind)
      ? `cp -r -- "$${name}" /var/outputs/${name}`
      : `printf '%s' "$${name}" > /var/outputs/${name}`;
    lines.push(`if [ -n "\${${name}+x}" ] && [ ! -e /var/outputs/${name} ]; then ${write}; fi`);
  }
  lines.push('exit "$__flyte_status"');
  return lines.join('\n');
}

/** What a sandbox runs: code (auto I/O or verbatim) in a language, or a command. */
export type SandboxProgram =
  | { mode: 'code'; language: SandboxLanguage; code: string; autoIo: boolean }
  | { mode: 'command'; command: readonly string[] };

/**
 * The argv that runs a program in the container (no shell string carries a value: the code
 * itself and the manifest are single argv entries).
 */
export function programArgv(
  program: SandboxProgram,
  manifest: { inputs: IoManifest; outputs: IoManifest },
): string[] {
  if (program.mode === 'command') return [...program.command];
  const { language, code, autoIo } = program;
  const manifestJson = JSON.stringify(manifest);
  switch (language) {
    case 'python':
      return autoIo
        ? ['python3', '-c', PYTHON_DRIVER, manifestJson, code]
        : ['python3', '-c', code];
    case 'javascript':
      return autoIo
        ? ['node', '-e', JAVASCRIPT_DRIVER, '--', manifestJson, code]
        : ['node', '-e', code];
    case 'bash':
      return autoIo ? ['bash', '-c', bashDriver(manifest), 'bash', code] : ['bash', '-c', code];
  }
}

// Runs one program and reports, after everything the program printed: `<marker>` on stderr,
// and `<marker> <exit code> <OOM kills>` on stdout followed (when asked) by a tar stream of
// the declared outputs present in /var/outputs and `<marker>` again. When the inputs cannot be
// unpacked, the program does not run and the line is `<marker> 125 0 unpack` (the program's
// own exit code 125 is told apart by the missing fourth word). The host knows the run is over from the markers, without
// waiting for the container to finish exiting.
// One process per run keeps a run to a single container start (or a single exec in a warm
// container). The script is constant: values arrive as files, the program as argv.
const RUN_SCRIPT = `marker=$1 unpack=$2 outputs=$3
shift 3
if [ "$unpack" = 1 ]; then
  # A warm container waits here for its run; without the go line (its owner went away and
  # stdin closed) it ends without running anything.
  IFS= read -r go || exit 0
  [ "$go" = go ] || exit 0
  tar -x -o -m -C /var -f - || {
    printf '%s\\n' "$marker" >&2
    printf '%s 125 0 unpack\\n%s\\n' "$marker" "$marker"
    exit 125
  }
fi
if [ -d /var/inputs/.flyte-secrets ]; then
  for file in /var/inputs/.flyte-secrets/*; do
    value=$(cat "$file"; printf x)
    export "\${file##*/}=\${value%x}"
  done
  rm -rf /var/inputs/.flyte-secrets
fi
"$@"
status=$?
oom=0
if [ "$status" -eq 137 ]; then
  for file in /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control; do
    if [ -r "$file" ]; then
      while read -r key value; do [ "$key" = oom_kill ] && oom=$value; done < "$file"
    fi
  done
fi
printf '%s\\n' "$marker" >&2
printf '%s %s %s\\n' "$marker" "$status" "$oom"
if [ -n "$outputs" ]; then
  # Only declared outputs are sent (names are identifiers: split on spaces, no globbing).
  set -f
  present=
  for name in $outputs; do
    if [ -e "/var/outputs/$name" ] || [ -L "/var/outputs/$name" ]; then present="$present $name"; fi
  done
  if [ -n "$present" ]; then tar -c -C /var/outputs $present; else tar -c -T /dev/null; fi
fi
printf '%s\\n' "$marker"
exit "$status"`;

/** How {@link wrapRun} frames a run. */
export interface RunFrame {
  /** A per-run random string that ends the program's stdout. */
  marker: string;
  /**
   * Whether stdin brings `go\n` and then an input archive (unpacked into /var, it holds
   * `inputs/...`).
   */
  unpack: boolean;
  /** Declared output names, sent from /var/outputs as a tar stream after the marker. */
  outputs: readonly string[];
}

/** The argv that runs `argv` framed as described in {@link RunFrame}. */
export function wrapRun(argv: readonly string[], frame: RunFrame): string[] {
  return [
    'sh',
    '-c',
    RUN_SCRIPT,
    'sandbox',
    frame.marker,
    frame.unpack ? '1' : '0',
    frame.outputs.join(' '),
    ...argv,
  ];
}

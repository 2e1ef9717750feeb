import * as fs from 'fs';
import { readFileSync, realpathSync, statSync, lstatSync, openSync, fstatSync, readSync, closeSync, readdirSync, readlinkSync, accessSync, constants } from 'fs';
import { findSourceMap } from 'module';
import { resolve, isAbsolute, dirname, basename, relative, sep, join } from 'path';
import { fileURLToPath } from 'url';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import { realpath, readlink, readFile } from 'fs/promises';
import { homedir, type } from 'os';
import { createHash } from 'crypto';
import ignore from 'ignore';
import { inflateSync } from 'zlib';

// src/definition-link.ts

// src/errors.ts
var FLYTE_ERROR_BRAND = /* @__PURE__ */ Symbol.for("@flyte/error");
var GitError = class extends Error {
  /** A stable, machine-readable code: what went wrong, independent of the wording. */
  code;
  /** Structured fields that explain the failure (the offending path or value). */
  details;
  /**
   * @param code - Stable machine-readable code, snake_case.
   * @param message - What was wrong, with which value, and what to do about it.
   * @param options - The cause and structured details.
   */
  constructor(code, message, options = {}) {
    super(message, options.cause === void 0 ? void 0 : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = Object.freeze({ ...options.details });
    Object.defineProperty(this, FLYTE_ERROR_BRAND, { value: true });
  }
  /**
   * Whether `value` is a GitError from any copy of this package (duplicate installs, worker
   * threads), checked by the shared brand and the class name rather than by `instanceof`.
   */
  static isInstance(value) {
    if (typeof value !== "object" || value === null) return false;
    if (value[FLYTE_ERROR_BRAND] !== true) return false;
    for (let proto = Object.getPrototypeOf(value); proto !== null; proto = Object.getPrototypeOf(proto)) {
      if (proto.constructor?.name === this.name) return true;
    }
    return false;
  }
};
function throwIfAborted(signal, what) {
  if (signal?.aborted) {
    throw new GitError("aborted", `${what} was aborted by the caller's AbortSignal.`, {
      cause: signal.reason
    });
  }
}
function parsedFileCache(parse, missing) {
  const cache2 = /* @__PURE__ */ new Map();
  return (file) => {
    let info;
    try {
      info = statSync(file);
    } catch {
      return missing();
    }
    const cached = cache2.get(file);
    if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached.value;
    const value = parse(readFileSync(file, "utf8"));
    cache2.set(file, { mtimeMs: info.mtimeMs, size: info.size, value });
    return value;
  };
}

// src/git-config.ts
var readCachedConfig = parsedFileCache(
  (text) => parseGitConfig(text),
  () => /* @__PURE__ */ new Map()
);
async function readGitConfig(file) {
  return readCachedConfig(file);
}
function configValue(configs, key) {
  let value;
  for (const config of configs) {
    const values = config.get(key);
    if (values && values.length > 0) value = values[values.length - 1];
  }
  return value;
}
function configBoolean(value, fallback) {
  if (value === void 0) return fallback;
  const lower = value.trim().toLowerCase();
  if (["true", "yes", "on"].includes(lower)) return true;
  if (["false", "no", "off", ""].includes(lower)) return false;
  const integer = /^([+-]?\d+)[kmg]?$/.exec(lower);
  if (integer) return Number(integer[1]) !== 0;
  return fallback;
}
function xdgConfigHome() {
  return process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
}
async function readUserConfigs() {
  const files = [];
  if (!process.env.GIT_CONFIG_NOSYSTEM) files.push("/etc/gitconfig");
  if (process.env.GIT_CONFIG_GLOBAL !== void 0) {
    if (process.env.GIT_CONFIG_GLOBAL !== "") files.push(process.env.GIT_CONFIG_GLOBAL);
  } else {
    files.push(join(xdgConfigHome(), "git", "config"), join(homedir(), ".gitconfig"));
  }
  return Promise.all(files.map(readGitConfig));
}
function parseGitConfig(text) {
  const config = /* @__PURE__ */ new Map();
  let section = "";
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    let line = (lines[index] ?? "").trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("[")) {
      const header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\](.*)$/.exec(line);
      if (!header) continue;
      const [, name2 = "", subsection, rest = ""] = header;
      if (subsection !== void 0) {
        section = `${name2.toLowerCase()}.${subsection.replace(/\\(.)/g, "$1")}`;
      } else {
        section = name2.toLowerCase();
      }
      line = rest.trim();
      if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    }
    const entry = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=(.*))?$/.exec(line);
    if (!entry || section === "") continue;
    const [, name = "", rawValue] = entry;
    let value;
    if (rawValue === void 0) {
      value = "true";
    } else {
      let raw = rawValue;
      while (/(^|[^\\])(\\\\)*\\$/.test(raw) && index + 1 < lines.length) {
        raw = raw.slice(0, -1) + (lines[++index] ?? "");
      }
      value = unquote(raw);
    }
    const key = `${section}.${name.toLowerCase()}`;
    const values = config.get(key);
    if (values) values.push(value);
    else config.set(key, [value]);
  }
  return config;
}
function unquote(raw) {
  let out = "";
  let quoted = false;
  let pendingSpace = "";
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i];
    if (!quoted && (char === "#" || char === ";")) break;
    if (char === '"') {
      quoted = !quoted;
      out += pendingSpace;
      pendingSpace = "";
      continue;
    }
    if (char === "\\") {
      const next = raw[++i] ?? "";
      const escaped = next === "n" ? "\n" : next === "t" ? "	" : next === "b" ? "\b" : next;
      out += pendingSpace + escaped;
      pendingSpace = "";
      continue;
    }
    if (!quoted && (char === " " || char === "	")) {
      if (out !== "") pendingSpace += char;
      continue;
    }
    out += pendingSpace + char;
    pendingSpace = "";
  }
  return out;
}
var LstatField = {
  mode: 1,
  uid: 3,
  gid: 4,
  ino: 7,
  size: 8,
  mtimeSeconds: 12,
  mtimeNanoseconds: 13,
  ctimeSeconds: 14,
  ctimeNanoseconds: 15
};
var DEV = 0;
var MODE = LstatField.mode;
var NLINK = 2;
var UID = LstatField.uid;
var GID = LstatField.gid;
var RDEV = 5;
var INO = LstatField.ino;
var SIZE = LstatField.size;
var MTIME_SECONDS = LstatField.mtimeSeconds;
var MTIME_NANOSECONDS = LstatField.mtimeNanoseconds;
var CTIME_SECONDS = LstatField.ctimeSeconds;
var CTIME_NANOSECONDS = LstatField.ctimeNanoseconds;
var FIELDS = 18;
var TWO_TO_32 = 2 ** 32;
function matchesStoredStat(stats, stored, trustCtime) {
  return stats.mtimeMs === stored.mtimeMs && (!trustCtime || stats.ctimeMs === stored.ctimeMs) && stats.ino % TWO_TO_32 === stored.ino && stats.uid === stored.uid && stats.gid === stored.gid && stats.size % TWO_TO_32 === stored.size;
}
function milliseconds(seconds, nanoseconds) {
  return seconds * 1e3 + nanoseconds / 1e6;
}
function fromStats(stats, into) {
  if (stats === void 0) return void 0;
  into.mode = stats.mode;
  into.ino = stats.ino;
  into.uid = stats.uid;
  into.gid = stats.gid;
  into.size = stats.size;
  into.mtimeMs = stats.mtimeMs;
  into.ctimeMs = stats.ctimeMs;
  return into;
}
var NO_ENTRY_IS_UNDEFINED = { throwIfNoEntry: false };
function emptyNumbers() {
  return { mode: 0, ino: 0, uid: 0, gid: 0, size: 0, mtimeMs: 0, ctimeMs: 0 };
}
function createPortableReader() {
  const numbers = emptyNumbers();
  return (path) => {
    let stats;
    try {
      stats = fs.lstatSync(path, NO_ENTRY_IS_UNDEFINED);
    } catch (error) {
      if (error.code === "ENOTDIR") return void 0;
      throw error;
    }
    return fromStats(stats, numbers);
  };
}
function processFsBinding() {
  const host = process;
  if (process.platform === "win32" || host.permission !== void 0) return void 0;
  if (typeof host.binding !== "function" || host.binding.name !== "binding") return void 0;
  if (process.env.NODE_PENDING_DEPRECATION || process.execArgv.includes("--pending-deprecation")) {
    return void 0;
  }
  try {
    const binding = host.binding("fs");
    return typeof binding?.lstat === "function" ? binding : void 0;
  } catch {
    return void 0;
  }
}
function fromFields(fields, into) {
  into.mode = fields[MODE];
  into.ino = fields[INO];
  into.uid = fields[UID];
  into.gid = fields[GID];
  into.size = fields[SIZE];
  into.mtimeMs = milliseconds(fields[MTIME_SECONDS], fields[MTIME_NANOSECONDS]);
  into.ctimeMs = milliseconds(fields[CTIME_SECONDS], fields[CTIME_NANOSECONDS]);
  return into;
}
function bindingAgrees(binding, probe) {
  try {
    const stats = fs.lstatSync(probe);
    const missing = `${probe}.flyte-git-missing-${process.pid}`;
    if (fs.lstatSync(missing, NO_ENTRY_IS_UNDEFINED) !== void 0) return false;
    for (const form of [(path) => path, nulTerminatedInLongerBuffer]) {
      const raw = binding.lstat(form(probe), false, void 0, false);
      if (!(raw instanceof Float64Array) || raw.length < FIELDS) return false;
      const fields = Array.from(raw.subarray(0, FIELDS));
      const same = fields[DEV] === stats.dev && fields[MODE] === stats.mode && fields[NLINK] === stats.nlink && fields[UID] === stats.uid && fields[GID] === stats.gid && fields[RDEV] === stats.rdev && fields[INO] === stats.ino && fields[SIZE] === stats.size && milliseconds(fields[MTIME_SECONDS], fields[MTIME_NANOSECONDS]) === stats.mtimeMs && milliseconds(fields[CTIME_SECONDS], fields[CTIME_NANOSECONDS]) === stats.ctimeMs;
      if (!same) return false;
      if (binding.lstat(form(missing), false, void 0, false) !== void 0) return false;
    }
  } catch {
    return false;
  }
  const throughFile = `${probe}/x`;
  let portableThrows = false;
  try {
    fs.lstatSync(throughFile, NO_ENTRY_IS_UNDEFINED);
  } catch {
    portableThrows = true;
  }
  try {
    binding.lstat(throughFile, false, void 0, false);
    return !portableThrows;
  } catch {
    return portableThrows;
  }
}
function nulTerminatedInLongerBuffer(path) {
  return Buffer.from(`${path}\0/not-part-of-the-path`);
}
function checkedBinding(options) {
  const binding = options.binding === void 0 ? processFsBinding() : options.binding;
  return binding && bindingAgrees(binding, options.probe ?? process.execPath) ? binding : null;
}
function readerThrough(binding) {
  const portable = createPortableReader();
  if (!binding) return portable;
  const numbers = emptyNumbers();
  return (path) => {
    if (path.includes("\0")) return portable(path);
    let raw;
    try {
      raw = binding.lstat(path, false, void 0, false);
    } catch {
      return portable(path);
    }
    return raw === void 0 ? void 0 : fromFields(raw, numbers);
  };
}
function prefixedReaderThrough(prefix, binding) {
  const fallback = readerThrough(binding);
  const prefixBytes = Buffer.from(prefix);
  const whole = (source, start, end) => fallback(Buffer.concat([prefixBytes, source.subarray(start, end)]));
  if (!binding) return whole;
  const raw = rawReaderThrough(prefixBytes, binding);
  const numbers = emptyNumbers();
  return (source, start, end) => {
    const fields = raw(source, start, end);
    if (fields === null) return whole(source, start, end);
    return fields === void 0 ? void 0 : fromFields(fields, numbers);
  };
}
function rawReaderThrough(prefixBytes, binding) {
  let path = Buffer.alloc(prefixBytes.length + 256);
  prefixBytes.copy(path);
  return (source, start, end) => {
    if (prefixBytes.length + end - start >= path.length) {
      path = Buffer.alloc(2 * (prefixBytes.length + end - start));
      prefixBytes.copy(path);
    }
    let at = prefixBytes.length;
    for (let k = start; k < end; k++) {
      const byte = source[k];
      if (byte === 0) return null;
      path[at++] = byte;
    }
    path[at] = 0;
    try {
      return binding.lstat(path, false, void 0, false);
    } catch {
      return null;
    }
  };
}
var sharedBinding;
function sharedCheckedBinding() {
  if (sharedBinding === void 0) sharedBinding = checkedBinding({});
  return sharedBinding;
}
var sharedReader;
function lstatReader() {
  sharedReader ??= readerThrough(sharedCheckedBinding());
  return sharedReader;
}
function prefixedLstatReader(prefix) {
  return prefixedReaderThrough(prefix, sharedCheckedBinding());
}
function rawPrefixedLstatReader(prefix) {
  const binding = sharedCheckedBinding();
  return binding ? rawReaderThrough(Buffer.from(prefix), binding) : void 0;
}

// src/git-index.ts
var FLAG_STAGE = 3;
var FLAG_ASSUME_VALID = 4;
var FLAG_SKIP_WORKTREE = 8;
var FLAG_INTENT_TO_ADD = 16;
var EntryField = {
  ctimeSeconds: 0,
  ctimeNanoseconds: 4,
  mtimeSeconds: 8,
  mtimeNanoseconds: 12,
  ino: 20,
  /** Not stat data, but read the same way: the entry's mode. */
  mode: 24,
  uid: 28,
  gid: 32,
  /** The file size truncated to 32 bits. */
  size: 36
};
var OID_OFFSET = 40;
var MODE_TYPE_MASK = 61440;
var MODE_FILE = 32768;
var MODE_REGULAR = 33188;
var MODE_EXECUTABLE = 33261;
var MODE_SYMLINK = 40960;
var MODE_GITLINK = 57344;
var MODE_TREE = 16384;
var decodeUtf8 = typeof Buffer.prototype.utf8Slice === "function" ? (data, start, end) => data.utf8Slice(start, end) : (data, start, end) => data.toString("utf8", start, end);
function parseCacheTree(data) {
  let position = 0;
  const node = () => {
    const nul = data.indexOf(0, position);
    const newline = nul < 0 ? -1 : data.indexOf(10, nul + 1);
    if (newline < 0) throw new RangeError("truncated");
    const name = data.toString("latin1", position, nul);
    const match = /^(-1|\d+) (\d+)$/.exec(data.toString("latin1", nul + 1, newline));
    if (!match) throw new RangeError("malformed");
    const entryCount = Number(match[1]);
    position = newline + 1;
    let oid;
    if (entryCount >= 0) {
      if (position + 20 > data.length) throw new RangeError("truncated");
      oid = data.toString("hex", position, position + 20);
      position += 20;
    }
    const children = /* @__PURE__ */ new Map();
    for (let k = Number(match[2]); k > 0; k--) {
      const [childName, child] = node();
      children.set(childName, child);
    }
    return [name, { entryCount, oid, children }];
  };
  try {
    return node()[1];
  } catch {
    return void 0;
  }
}
function isFullyValid(node) {
  if (node.entryCount < 0) return false;
  for (const child of node.children.values()) if (!isFullyValid(child)) return false;
  return true;
}
var GitIndex = class {
  version;
  /** The number of entries. */
  count;
  modes;
  flags;
  /** Where each entry starts in the file; add an {@link EntryField} offset to read its stat data. */
  entryOffsets;
  /** Every entry's path as bytes (no decoding, so names that are not UTF-8 stay exact). */
  pathBytes;
  /** The file's bytes. */
  data;
  /** A view of {@link GitIndex.data} for reading its big-endian numbers. */
  view;
  /** The first entry that is unmerged or intent-to-add, or -1 when there is none. */
  firstUnmergedOrIntentToAdd;
  mtime;
  /** The untracked-cache extension's bytes (UNTR), when git wrote one. */
  untrackedCacheData;
  #cacheTreeData;
  #trees;
  #treesHashed = 0;
  constructor(fields) {
    this.version = fields.version;
    this.data = fields.data;
    this.view = new DataView(fields.data.buffer, fields.data.byteOffset, fields.data.byteLength);
    this.count = fields.count;
    this.entryOffsets = fields.entryOffsets;
    this.pathBytes = fields.pathBytes;
    this.modes = fields.modes;
    this.flags = fields.flags;
    this.firstUnmergedOrIntentToAdd = fields.firstUnmergedOrIntentToAdd;
    this.#cacheTreeData = fields.cacheTreeData;
    this.untrackedCacheData = fields.untrackedCacheData;
    this.mtime = fields.mtime;
  }
  /** Entry `i`'s path, decoded from its bytes (a name that is not valid UTF-8 gets U+FFFD). */
  path(i) {
    const { bytes, starts, ends } = this.pathBytes;
    return decodeUtf8(bytes, starts[i], ends[i]);
  }
  /**
   * Entry `i`'s path as a byte string: one character per byte (latin1), so that every name is
   * exact, even one that is not valid UTF-8, and strings compare in git's byte order.
   */
  bytePath(i) {
    const { bytes, starts, ends } = this.pathBytes;
    return bytes.toString("latin1", starts[i], ends[i]);
  }
  /** Stat field `field` (an {@link EntryField} offset) of entry `i`. */
  statField(i, field) {
    return this.view.getUint32(this.entryOffsets[i] + field);
  }
  /** Entry `i`'s mtime in milliseconds, computed the way Node computes `Stats.mtimeMs`. */
  mtimeMs(i) {
    const offset = this.entryOffsets[i];
    return milliseconds(
      this.view.getUint32(offset + EntryField.mtimeSeconds),
      this.view.getUint32(offset + EntryField.mtimeNanoseconds)
    );
  }
  /** Entry `i`'s ctime in milliseconds, computed the way Node computes `Stats.ctimeMs`. */
  ctimeMs(i) {
    const offset = this.entryOffsets[i];
    return milliseconds(
      this.view.getUint32(offset + EntryField.ctimeSeconds),
      this.view.getUint32(offset + EntryField.ctimeNanoseconds)
    );
  }
  /** Whether the index has a cache-tree extension (git writes one; some other tools do not). */
  get hasCacheTree() {
    return this.#cacheTreeData !== void 0;
  }
  /** The tree id the whole index would be written as, when the cache tree knows it. */
  get cacheTreeRootOid() {
    const data = this.#cacheTreeData;
    if (!data) return void 0;
    const lineEnd = data.indexOf(10);
    if (data[0] !== 0 || lineEnd < 0 || data[1] === 45 || lineEnd + 21 > data.length) {
      return void 0;
    }
    return data.toString("hex", lineEnd + 1, lineEnd + 21);
  }
  /**
   * The trees of the index, keyed by directory prefix as a byte string (see
   * {@link GitIndex.bytePath}: `''` for the root, `'src/'`, `'src/lib/'`): the id of the tree
   * object each directory would be written as (as `git write-tree` would write it) and how many
   * entries it spans. It compares the index with HEAD without reading HEAD's trees. Directories
   * the cache tree still vouches for are taken from it, as git does; the others are hashed from
   * their entries' bytes. Stage-0 entries only; computed once per parsed index.
   */
  trees() {
    if (this.#trees) return this.#trees;
    const trees = /* @__PURE__ */ new Map();
    const { modes, data, entryOffsets, count } = this;
    const cacheTree = this.#cacheTreeData && parseCacheTree(this.#cacheTreeData);
    let decoded = -1;
    let decodedPath = "";
    const pathAt = (i2) => {
      if (i2 !== decoded) {
        decoded = i2;
        decodedPath = this.bytePath(i2);
      }
      return decodedPath;
    };
    const startsWith = (i2, prefix) => i2 < count && pathAt(i2).startsWith(prefix);
    const fromCacheTree = (prefix, node, start) => {
      const end = start + node.entryCount;
      const fits = isFullyValid(node) && end <= count && (prefix === "" ? end === count : node.entryCount > 0 && startsWith(start, prefix) && startsWith(end - 1, prefix) && !startsWith(end, prefix));
      if (!fits) return false;
      const add = (path, at) => {
        trees.set(path, { oid: at.oid, entries: at.entryCount });
        for (const [name, child] of at.children) add(`${path}${name}/`, child);
      };
      add(prefix, node);
      return true;
    };
    let i = 0;
    const build = (prefix, node) => {
      const start = i;
      if (node && fromCacheTree(prefix, node, start)) {
        i = start + node.entryCount;
        return Buffer.from(node.oid, "hex");
      }
      const names = [];
      const modeTexts = [];
      const ids = [];
      while (startsWith(i, prefix)) {
        if (this.stage(i) !== 0) {
          i++;
          continue;
        }
        const rest = pathAt(i).slice(prefix.length);
        const slash = rest.indexOf("/");
        if (slash < 0 || slash === rest.length - 1) {
          const name = slash < 0 ? rest : rest.slice(0, -1);
          if (slash >= 0) trees.set(`${prefix}${rest}`, { oid: this.oid(i), entries: 1 });
          names.push(name);
          modeTexts.push(modeText(modes[i]));
          ids.push(entryOffsets[i] + OID_OFFSET);
          i++;
        } else {
          const name = rest.slice(0, slash);
          const id = build(`${prefix}${name}/`, node?.children.get(name));
          names.push(name);
          modeTexts.push(modeText(MODE_TREE));
          ids.push(id);
        }
      }
      let size = 0;
      for (let k = 0; k < names.length; k++) {
        size += modeTexts[k].length + names[k].length + 22;
      }
      const header = `tree ${size}\0`;
      const object = Buffer.allocUnsafe(header.length + size);
      let at = object.write(header, 0, "latin1");
      for (let k = 0; k < names.length; k++) {
        at += object.write(modeTexts[k], at, "latin1");
        object[at++] = 32;
        at += object.write(names[k], at, "latin1");
        object[at++] = 0;
        const id = ids[k];
        if (typeof id === "number") data.copy(object, at, id, id + 20);
        else id.copy(object, at);
        at += 20;
      }
      const oid = createHash("sha1").update(object).digest();
      this.#treesHashed += 1;
      trees.set(prefix, { oid: oid.toString("hex"), entries: i - start });
      return oid;
    };
    build("", cacheTree);
    this.#trees = trees;
    return trees;
  }
  /** How many tree objects {@link GitIndex.trees} hashed from entries (0 before it is called). */
  get treesHashed() {
    return this.#treesHashed;
  }
  /** The object id of entry `i`. */
  oid(i) {
    const offset = this.entryOffsets[i] + OID_OFFSET;
    return this.data.toString("hex", offset, offset + 20);
  }
  /** The merge stage of entry `i` (0 normally). */
  stage(i) {
    return this.flags[i] & FLAG_STAGE;
  }
  /**
   * Whether entry `i` is a conflict stage, or has a worktree file that is not compared
   * (assume-valid, skip-worktree).
   */
  isUnmergedOrNotCompared(i) {
    return (this.flags[i] & (FLAG_STAGE | FLAG_ASSUME_VALID | FLAG_SKIP_WORKTREE)) !== 0;
  }
  /** Whether entry `i` was added with `git add -N` (intent to add). */
  isIntentToAdd(i) {
    return (this.flags[i] & FLAG_INTENT_TO_ADD) !== 0;
  }
  /**
   * The position of the stage-0 entry for `path` (or its first conflict stage), or undefined: a
   * binary search of the entries, which git keeps sorted by their paths' bytes, then by stage.
   */
  position(path) {
    const target = Buffer.from(path);
    const { bytes, starts, ends } = this.pathBytes;
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = low + high >>> 1;
      const order = bytes.compare(target, 0, target.length, starts[middle], ends[middle]);
      if (order < 0) low = middle + 1;
      else high = middle;
    }
    if (low === this.count) return void 0;
    return bytes.compare(target, 0, target.length, starts[low], ends[low]) === 0 ? low : void 0;
  }
};
var MODE_TEXTS = /* @__PURE__ */ new Map();
function modeText(mode) {
  let text = MODE_TEXTS.get(mode);
  if (text === void 0) {
    text = mode.toString(8);
    MODE_TEXTS.set(mode, text);
  }
  return text;
}
var cache = /* @__PURE__ */ new Map();
var EMPTY_INDEX = (() => {
  const header = Buffer.from("DIRC\0\0\0\0\0\0\0", "latin1");
  return Buffer.concat([header, createHash("sha1").update(header).digest()]);
})();
async function readGitIndex(gitdir) {
  const file = join(gitdir, "index");
  let fd;
  try {
    fd = openSync(file, "r");
  } catch (error) {
    if (error.code === "ENOENT") {
      return parseGitIndex(file, EMPTY_INDEX, { seconds: 0, nanoseconds: 0 });
    }
    throw error;
  }
  try {
    const info = fstatSync(fd, { bigint: true });
    const key = `${info.mtimeNs}:${info.size}:${info.ino}`;
    const cached = cache.get(file);
    if (cached?.key === key) return cached.index;
    const data = Buffer.allocUnsafe(Number(info.size));
    let length = 0;
    while (length < data.length) {
      const read = readSync(fd, data, length, data.length - length, length);
      if (read === 0) break;
      length += read;
    }
    const index = parseGitIndex(file, data.subarray(0, length), {
      seconds: Number(info.mtimeNs / 1000000000n),
      nanoseconds: Number(info.mtimeNs % 1000000000n)
    });
    cache.set(file, { key, index });
    return index;
  } finally {
    closeSync(fd);
  }
}
function corrupt(file, problem, cause) {
  return new GitError(
    "corrupt_index",
    `The git index ${file} is corrupt: ${problem}. Rebuild it with \`rm "${file}" && git reset\` (this keeps your working files).`,
    { details: { path: file, problem }, ...cause === void 0 ? {} : { cause } }
  );
}
function parseGitIndex(file, data, mtime) {
  if (data.length < 32 || data.toString("latin1", 0, 4) !== "DIRC") {
    throw corrupt(file, 'it does not start with the "DIRC" signature');
  }
  const version = data.readUInt32BE(4);
  if (version < 2 || version > 4) throw corrupt(file, `it has unknown version ${version}`);
  const body = data.length - 20;
  const checksum = data.subarray(body);
  if (checksum.some((byte) => byte !== 0)) {
    const actual = createHash("sha1").update(data.subarray(0, body)).digest();
    if (!actual.equals(checksum)) throw corrupt(file, "its checksum does not match its content");
  }
  const count = data.readUInt32BE(8);
  if (count * 62 > body - 12) {
    throw corrupt(file, `it claims ${count} entries, more than its ${data.length} bytes can hold`);
  }
  const modes = new Uint32Array(count);
  const flagBits = new Uint8Array(count);
  const entryOffsets = new Uint32Array(count);
  const pathStarts = new Uint32Array(count);
  const pathEnds = new Uint32Array(count);
  let spelled = version === 4 ? Buffer.allocUnsafe(Math.max(4096, 4 * (body - 12 - 62 * count))) : data;
  let spelledEnd = 0;
  let firstUnmergedOrIntentToAdd = -1;
  let offset = 12;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  try {
    for (let i = 0; i < count; i++) {
      const start = offset;
      if (start + 62 > body) throw new RangeError("entry past the end");
      entryOffsets[i] = offset;
      modes[i] = view.getUint32(offset + EntryField.mode);
      const flags = view.getUint16(offset + 60);
      offset += 62;
      let extended = 0;
      if (flags & 16384) {
        if (version < 3) throw new Error(`entry ${i} has extended flags in a version 2 index`);
        extended = view.getUint16(offset);
        offset += 2;
      }
      const entryFlags = flags >> 12 & FLAG_STAGE | (flags & 32768 ? FLAG_ASSUME_VALID : 0) | (extended & 16384 ? FLAG_SKIP_WORKTREE : 0) | (extended & 8192 ? FLAG_INTENT_TO_ADD : 0);
      flagBits[i] = entryFlags;
      if (firstUnmergedOrIntentToAdd < 0 && entryFlags & (FLAG_STAGE | FLAG_INTENT_TO_ADD)) {
        firstUnmergedOrIntentToAdd = i;
      }
      if (version === 4) {
        let drop = 0;
        let byte;
        let first = true;
        do {
          if (offset >= body) throw new RangeError("entry past the end");
          byte = data[offset++];
          drop = (first ? 0 : (drop + 1) * 128) + (byte & 127);
          first = false;
        } while (byte & 128);
        const previousStart = i > 0 ? pathStarts[i - 1] : 0;
        const previousLength = i > 0 ? pathEnds[i - 1] - previousStart : 0;
        if (i > 0 && drop > previousLength) {
          throw new Error(`entry ${i} removes more than the previous path`);
        }
        const kept = i > 0 ? previousLength - drop : 0;
        const wholeLength = flags & 4095;
        const end = wholeLength < 4095 && wholeLength >= kept && data[offset + wholeLength - kept] === 0 ? offset + wholeLength - kept : data.indexOf(0, offset);
        if (end < 0 || end > body) throw new Error(`entry ${i} has an unterminated path`);
        const length = kept + end - offset;
        if (spelledEnd + length > spelled.length) {
          const larger = Buffer.allocUnsafe(2 * (spelled.length + length));
          spelled.copy(larger, 0, 0, spelledEnd);
          spelled = larger;
        }
        spelled.copyWithin(spelledEnd, previousStart, previousStart + kept);
        for (let from = offset, to = spelledEnd + kept; from < end; from++, to++) {
          spelled[to] = data[from];
        }
        pathStarts[i] = spelledEnd;
        pathEnds[i] = spelledEnd + length;
        spelledEnd += length;
        offset = end + 1;
      } else {
        const length = flags & 4095;
        const end = length < 4095 && data[offset + length] === 0 ? offset + length : data.indexOf(0, offset);
        if (end < 0 || end > body) throw new Error(`entry ${i} has an unterminated path`);
        pathStarts[i] = offset;
        pathEnds[i] = end;
        offset = start + (end - start + 8 & ~7);
      }
      if (offset > body) throw new Error(`entry ${i} runs past the end of the entries`);
      if (pathEnds[i] === pathStarts[i]) throw new Error(`entry ${i} has an empty path`);
    }
  } catch (error) {
    if (GitError.isInstance(error)) throw error;
    throw corrupt(
      file,
      error instanceof RangeError ? "it ends in the middle of an entry" : String(error.message),
      error
    );
  }
  let cacheTreeData;
  let untrackedCacheData;
  while (offset + 8 <= body) {
    const signature = data.toString("latin1", offset, offset + 4);
    const length = data.readUInt32BE(offset + 4);
    const start = offset + 8;
    if (start + length > body)
      throw corrupt(file, `extension ${signature} runs past the end of the file`);
    if (signature === "TREE") {
      cacheTreeData = data.subarray(start, start + length);
    } else if (signature === "UNTR") {
      untrackedCacheData = data.subarray(start, start + length);
    } else if (signature === "link") {
      throw new GitError(
        "unsupported_index",
        `The git index ${file} is a split index (core.splitIndex), which @flyte/git does not read; turn it off with \`git config core.splitIndex false && git update-index --no-split-index\`.`,
        { details: { path: file } }
      );
    }
    offset = start + length;
  }
  return new GitIndex({
    version,
    data,
    count,
    entryOffsets,
    pathBytes: {
      // The cached index keeps this buffer: version 4's is cut to what its paths use.
      bytes: version === 4 ? Buffer.from(spelled.subarray(0, spelledEnd)) : spelled,
      starts: pathStarts,
      ends: pathEnds
    },
    modes,
    flags: flagBits,
    firstUnmergedOrIntentToAdd,
    cacheTreeData,
    untrackedCacheData,
    mtime
  });
}
var compiled = /* @__PURE__ */ new Map();
function compileIgnoreRules(content, ignoreCase) {
  const key = `${ignoreCase ? "i" : "s"}${content}`;
  let rules = compiled.get(key);
  if (!rules) {
    rules = ignore({ ignorecase: ignoreCase }).add(content);
    if (compiled.size > 500) compiled.clear();
    compiled.set(key, rules);
  }
  return rules;
}
function isIgnored(path, isDirectory, levels, excludes) {
  const suffix = isDirectory ? "/" : "";
  for (let i = levels.length - 1; i >= 0; i--) {
    const level = levels[i];
    const relative2 = level.base === "" ? path : path.slice(level.base.length + 1);
    const verdict = level.rules.test(relative2 + suffix);
    if (verdict.ignored) return true;
    if (verdict.unignored) return false;
  }
  for (const rules of excludes) {
    const verdict = rules.test(path + suffix);
    if (verdict.ignored) return true;
    if (verdict.unignored) return false;
  }
  return false;
}
function readIfFile(path) {
  try {
    return readFileSync(path);
  } catch {
    return void 0;
  }
}
function readExcludeRules(worktree, commondir, excludesFile, ignoreCase) {
  const globalFile = excludesFile !== void 0 ? resolve(worktree, excludesFile.replace(/^~(?=$|\/)/, homedir())) : join(xdgConfigHome(), "git", "ignore");
  const sources = {
    infoExclude: readIfFile(join(commondir, "info", "exclude")),
    excludesFile: readIfFile(globalFile)
  };
  const rules = [sources.infoExclude, sources.excludesFile].map((bytes) => bytes?.toString("utf8")).filter((content) => content !== void 0 && content.trim() !== "").map((content) => compileIgnoreRules(content, ignoreCase));
  return { rules, sources };
}

// src/remote-url.ts
var URL_FORM = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/]*)@)?(\[[^\]]+\]|[^/:?#]+)(?::(\d*))?(\/[^?#]*)?/i;
var SCP_FORM = /^(?:([^@/:\s]+)@)?([^@/:\s]+):(?!\/\/)(.*)$/;
var REMOTE_HELPER = /^[a-z][a-z0-9+.-]*::/i;
var SSH_SCHEMES = /* @__PURE__ */ new Set(["ssh", "git+ssh", "ssh+git"]);
function normalizeRemoteUrl(url) {
  const trimmed = url.trim();
  if (trimmed === "" || REMOTE_HELPER.test(trimmed)) return void 0;
  const parsed2 = parseUrlForm(trimmed) ?? parseScpForm(trimmed);
  if (!parsed2) return void 0;
  return finish(parsed2);
}
function parseUrlForm(url) {
  const match = URL_FORM.exec(url);
  if (!match) return void 0;
  const [, rawScheme = "", , host = "", port, path = ""] = match;
  const scheme = rawScheme.toLowerCase();
  const isHttp = scheme === "http" || scheme === "https";
  const viaSsh = SSH_SCHEMES.has(scheme);
  if (!isHttp && !viaSsh && scheme !== "git") return void 0;
  return {
    scheme: scheme === "http" ? "http" : "https",
    host,
    port: isHttp && port ? port : void 0,
    path,
    viaSsh,
    sshPort: viaSsh && port ? port : void 0
  };
}
function parseScpForm(url) {
  if (url.includes("://")) return void 0;
  const match = SCP_FORM.exec(url);
  if (!match) return void 0;
  const [, , host = "", path = ""] = match;
  if (host.length === 1 && /^[\\/]/.test(path)) return void 0;
  if (host === "." || host === ".." || path === "") return void 0;
  return {
    scheme: "https",
    host,
    port: void 0,
    path: `/${path.replace(/^\/+/, "")}`,
    viaSsh: true,
    sshPort: void 0
  };
}
function finish(remote) {
  let host = remote.host.toLowerCase();
  let path = remote.path.replace(/\/+$/, "").replace(/\.git$/i, "").replace(/\/+$/, "");
  path = path.replace(/\/{2,}/g, "/");
  if (path === "" || path === "/") return void 0;
  if (host === "ssh.github.com") host = "github.com";
  if (host === "altssh.gitlab.com") host = "gitlab.com";
  if (host === "altssh.bitbucket.org") host = "bitbucket.org";
  const azure = /^\/v3\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (azure && host === "ssh.dev.azure.com") {
    return `https://dev.azure.com/${azure[1]}/${azure[2]}/_git/${azure[3]}`;
  }
  if (azure && host === "vs-ssh.visualstudio.com") {
    return `https://${azure[1]?.toLowerCase()}.visualstudio.com/${azure[2]}/_git/${azure[3]}`;
  }
  if (remote.viaSsh && remote.sshPort === "7999" && !path.startsWith("/scm/")) {
    path = `/scm${path}`;
  }
  const port = remote.port && !(remote.scheme === "https" && remote.port === "443") && !(remote.scheme === "http" && remote.port === "80") ? `:${remote.port}` : "";
  return `${remote.scheme}://${host}${port}${path}`;
}
function commondirOf(gitdir) {
  let text;
  try {
    text = readFileSync(join(gitdir, "commondir"), "utf8");
  } catch {
    return gitdir;
  }
  return resolve(gitdir, text.replace(/[\r\n]+$/, "") || ".");
}
async function readTextIfExists(file) {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if (isMissing(error)) return void 0;
    throw error;
  }
}
function isMissing(error) {
  const code = error?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
async function discoverRepository(start) {
  let dir;
  try {
    dir = realpathSync(start);
    if (!statSync(dir).isDirectory()) dir = dirname(dir);
  } catch (error) {
    if (!isMissing(error)) throw error;
    const parent = dirname(resolve(start));
    if (parent === resolve(start)) return void 0;
    return discoverRepository(parent);
  }
  for (; ; ) {
    const layout = await layoutAt(dir);
    if (layout) return layout;
    const parent = dirname(dir);
    if (parent === dir) return void 0;
    dir = parent;
  }
}
function isNestedRepository(directory) {
  const dotGit = join(directory, ".git");
  let info;
  try {
    info = statSync(dotGit, { throwIfNoEntry: false });
  } catch {
    return false;
  }
  if (info?.isDirectory()) return isGitDirectory(dotGit);
  if (!info?.isFile() || info.size > 1 << 20) return false;
  let text;
  try {
    text = readFileSync(dotGit, "utf8");
  } catch {
    return true;
  }
  if (!text.startsWith("gitdir: ")) return false;
  const target = text.slice("gitdir: ".length).replace(/[\r\n]+$/, "");
  if (target === "") return false;
  return isGitDirectory(isAbsolute(target) ? target : join(directory, target));
}
function isGitDirectory(suspect) {
  if (!isValidHead(join(suspect, "HEAD"))) return false;
  const common = commondirOf(suspect);
  const searchable = (path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const objects = process.env.GIT_OBJECT_DIRECTORY || join(common, "objects");
  return searchable(objects) && searchable(join(common, "refs"));
}
function isValidHead(head) {
  try {
    if (lstatSync(head).isSymbolicLink()) return readlinkSync(head).startsWith("refs/");
    const text = readFileSync(head, "latin1").slice(0, 255);
    const symbolic = /^ref:\s*(.*)/s.exec(text);
    if (symbolic) return symbolic[1].startsWith("refs/");
    return /^[0-9a-fA-F]{40}/.test(text);
  } catch {
    return false;
  }
}
async function layoutAt(worktree) {
  const dotGit = join(worktree, ".git");
  let info;
  try {
    info = lstatSync(dotGit);
  } catch (error) {
    if (isMissing(error)) return void 0;
    throw error;
  }
  let gitdir;
  if (info.isFile()) {
    const text = readFileSync(dotGit, "utf8");
    const match = /^gitdir:\s*(.+?)\s*$/m.exec(text);
    if (!match?.[1]) {
      throw new GitError(
        "corrupt_repository",
        `${dotGit} is a file but does not say "gitdir: <path>"; fix or remove it (a submodule can be repaired with \`git submodule absorbgitdirs\`).`,
        { details: { path: dotGit } }
      );
    }
    gitdir = isAbsolute(match[1]) ? match[1] : resolve(worktree, match[1]);
  } else if (info.isDirectory() || info.isSymbolicLink()) {
    gitdir = dotGit;
  } else {
    return void 0;
  }
  if (!statSync(join(gitdir, "HEAD"), { throwIfNoEntry: false })) return void 0;
  return {
    worktree,
    gitdir: realpathSync(gitdir),
    commondir: realpathSync(commondirOf(gitdir))
  };
}
function readRepositoryConfig(layout) {
  return readGitConfig(join(layout.commondir, "config"));
}
var readPackedRefs = parsedFileCache(
  (text) => {
    const refs = /* @__PURE__ */ new Map();
    for (const line of text.split("\n")) {
      const match = /^([0-9a-f]{40,64}) (\S+)$/.exec(line);
      if (match?.[1] && match[2]) refs.set(match[2], match[1]);
    }
    return refs;
  },
  () => /* @__PURE__ */ new Map()
);
async function packedRefs(commondir) {
  return readPackedRefs(join(commondir, "packed-refs"));
}
var PER_WORKTREE = /^(?:HEAD|[A-Z_]+|refs\/(?:bisect|worktree|rewritten)\/.*)$/;
async function readRef(layout, name) {
  const dir = PER_WORKTREE.test(name) ? layout.gitdir : layout.commondir;
  const loose = await readTextIfExists(join(dir, name)).catch((error) => {
    if (error.code === "EISDIR") return void 0;
    throw error;
  });
  if (loose !== void 0) {
    const text = loose.trim();
    if (text.startsWith("ref:")) return { symbolic: text.slice(4).trim() };
    if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(text)) return { oid: text };
    throw new GitError(
      "corrupt_repository",
      `The ref file ${join(dir, name)} holds ${JSON.stringify(text.slice(0, 80))}, which is neither an object id nor "ref: <name>"; repair it (for example \`git update-ref ${name} <commit>\`).`,
      { details: { path: join(dir, name) } }
    );
  }
  const packed = (await packedRefs(layout.commondir)).get(name);
  return packed === void 0 ? void 0 : { oid: packed };
}
async function resolveHead(layout) {
  let name = "HEAD";
  let branch;
  for (let depth = 0; depth < 5; depth++) {
    const ref = await readRef(layout, name);
    if (ref === void 0) return { oid: void 0, branch };
    if ("oid" in ref) return { oid: ref.oid, branch };
    name = ref.symbolic;
    if (depth === 0 && name.startsWith("refs/heads/")) branch = name.slice("refs/heads/".length);
  }
  throw new GitError(
    "corrupt_repository",
    `HEAD in ${layout.gitdir} is a chain of more than 5 symbolic refs ending at ${name}; point HEAD at a branch with \`git checkout <branch>\`.`,
    { details: { gitdir: layout.gitdir } }
  );
}
async function remoteTrackingOids(layout, remote) {
  const prefix = `refs/remotes/${remote}/`;
  const oids = /* @__PURE__ */ new Set();
  for (const [name, oid] of await packedRefs(layout.commondir)) {
    if (name.startsWith(prefix)) oids.add(oid);
  }
  const walk = async (relative2) => {
    let entries;
    try {
      entries = readdirSync(join(layout.commondir, relative2), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const child = `${relative2}${entry.name}`;
      if (entry.isDirectory()) await walk(`${child}/`);
      else {
        const ref = await readRef(layout, child).catch(() => void 0);
        if (ref && "oid" in ref) oids.add(ref.oid);
      }
    }
  };
  await walk(prefix);
  return [...oids];
}
async function isShallowRepository(layout) {
  const text = await readTextIfExists(join(layout.commondir, "shallow"));
  return text !== void 0 && text.trim() !== "";
}

// src/url-builders.ts
function encodePath(path) {
  return path.split("/").map(encodeURIComponent).join("/");
}
function hasRange(target) {
  return target.endLine !== void 0 && target.line !== void 0 && target.endLine > target.line;
}
var AZURE_WHOLE_LINE_END_COLUMN = 1e3;
var gitUrlBuilderKinds = Object.freeze({
  github: (t) => `${t.remoteUrl}/blob/${t.commitSha}/${encodePath(t.path)}${t.line === void 0 ? "" : `#L${t.line}${hasRange(t) ? `-L${t.endLine}` : ""}`}`,
  gitlab: (t) => `${t.remoteUrl}/-/blob/${t.commitSha}/${encodePath(t.path)}${t.line === void 0 ? "" : `#L${t.line}${hasRange(t) ? `-${t.endLine}` : ""}`}`,
  bitbucket: (t) => `${t.remoteUrl}/src/${t.commitSha}/${encodePath(t.path)}${t.line === void 0 ? "" : `#lines-${t.line}${hasRange(t) ? `:${t.endLine}` : ""}`}`,
  "bitbucket-server": (t) => {
    const url = new URL(t.remoteUrl);
    const segments = url.pathname.split("/").filter((s) => s !== "");
    const scm = segments.lastIndexOf("scm");
    const context = scm >= 0 ? segments.slice(0, scm) : segments.slice(0, -2);
    const [project = "", repo = ""] = scm >= 0 ? segments.slice(scm + 1) : segments.slice(-2);
    const base = `${url.origin}${context.map((s) => `/${s}`).join("")}`;
    return `${base}/projects/${project}/repos/${repo}/browse/${encodePath(t.path)}?at=${t.commitSha}${t.line === void 0 ? "" : `#${t.line}${hasRange(t) ? `-${t.endLine}` : ""}`}`;
  },
  "azure-devops": (t) => {
    let url = `${t.remoteUrl}?path=${encodeURIComponent(`/${t.path}`)}&version=GC${t.commitSha}`;
    if (t.line !== void 0) {
      const end = hasRange(t) ? t.endLine : t.line;
      url += `&line=${t.line}&lineEnd=${end}&lineStartColumn=1&lineEndColumn=${AZURE_WHOLE_LINE_END_COLUMN}&lineStyle=plain`;
    }
    return `${url}&_a=contents`;
  },
  gitea: (t) => `${t.remoteUrl}/src/commit/${t.commitSha}/${encodePath(t.path)}${t.line === void 0 ? "" : `#L${t.line}${hasRange(t) ? `-L${t.endLine}` : ""}`}`,
  sourcehut: (t) => `${t.remoteUrl}/tree/${t.commitSha}/item/${encodePath(t.path)}${t.line === void 0 ? "" : `#L${t.line}${hasRange(t) ? `-${t.endLine}` : ""}`}`
});
var PROVIDER_KINDS = Object.keys(gitUrlBuilderKinds);
function isProviderKind(value) {
  return PROVIDER_KINDS.includes(value);
}
var registry = /* @__PURE__ */ new Map([
  ["github.com", gitUrlBuilderKinds.github],
  ["gitlab.com", gitUrlBuilderKinds.gitlab],
  ["bitbucket.org", gitUrlBuilderKinds.bitbucket],
  ["dev.azure.com", gitUrlBuilderKinds["azure-devops"]],
  ["codeberg.org", gitUrlBuilderKinds.gitea],
  ["gitea.com", gitUrlBuilderKinds.gitea],
  ["git.sr.ht", gitUrlBuilderKinds.sourcehut]
]);
var registeredByCaller = /* @__PURE__ */ new Set();
var gitUrlBuilders = registry;
function registerGitUrlBuilder(host, builder) {
  const key = host.trim().toLowerCase();
  if (key === "" || /[/\s@]/.test(key)) {
    throw new GitError(
      "invalid_argument",
      `registerGitUrlBuilder needs a bare host such as "git.acme.io", got ${JSON.stringify(host)}.`,
      { details: { host } }
    );
  }
  if (typeof builder === "string" && !isProviderKind(builder)) {
    throw new GitError(
      "invalid_argument",
      `Unknown git provider kind ${JSON.stringify(builder)} for host "${key}"; use one of ${PROVIDER_KINDS.join(", ")} or pass a function.`,
      { details: { host, kind: builder } }
    );
  }
  registry.set(key, typeof builder === "string" ? gitUrlBuilderKinds[builder] : builder);
  registeredByCaller.add(key);
}
var parsedHosts;
function hostsFromEnvironment() {
  const source = process.env.FLYTE_GIT_HOSTS ?? "";
  if (parsedHosts?.source === source) return parsedHosts;
  const hosts = /* @__PURE__ */ new Map();
  const problems = [];
  for (const entry of source.split(/[,\s]+/)) {
    if (entry === "") continue;
    const [host = "", kind = ""] = entry.split("=").map((part) => part.trim().toLowerCase());
    if (host === "" || !isProviderKind(kind)) {
      problems.push(
        `FLYTE_GIT_HOSTS entry "${entry}" was ignored: write host=kind with kind one of ${PROVIDER_KINDS.join(", ")}`
      );
      continue;
    }
    hosts.set(host, kind);
  }
  parsedHosts = { source, hosts, problems };
  return parsedHosts;
}
function inferKind(url) {
  const hostname = url.hostname;
  if (hostname.endsWith(".visualstudio.com") || hostname.endsWith(".azure.com")) {
    return "azure-devops";
  }
  if (/^\/(?:[^/]+\/)*scm\//.test(url.pathname)) return "bitbucket-server";
  const firstLabel = hostname.split(".")[0];
  switch (firstLabel) {
    case "github":
      return "github";
    case "gitlab":
      return "gitlab";
    case "gitea":
    case "forgejo":
      return "gitea";
    case "bitbucket":
      return "bitbucket-server";
    default:
      return void 0;
  }
}
function findGitUrlBuilder(remoteUrl) {
  let url;
  try {
    url = new URL(remoteUrl);
  } catch {
    return { reason: `the remote URL ${JSON.stringify(remoteUrl)} is not a web URL` };
  }
  const keys = url.port === "" ? [url.host] : [url.host, url.hostname];
  for (const key of keys) {
    const own = registeredByCaller.has(key) ? registry.get(key) : void 0;
    if (own) return { builder: own };
  }
  const environment = hostsFromEnvironment();
  for (const key of keys) {
    const kind = environment.hosts.get(key);
    if (kind) return { builder: gitUrlBuilderKinds[kind] };
  }
  for (const key of keys) {
    const builtIn = registry.get(key);
    if (builtIn) return { builder: builtIn };
  }
  const guessed = inferKind(url);
  if (guessed) return { builder: gitUrlBuilderKinds[guessed] };
  const problems = environment.problems.length > 0 ? ` (${environment.problems.join("; ")})` : "";
  return {
    reason: `no link builder is known for host "${url.host}": register one with registerGitUrlBuilder("${url.host}", kind) or FLYTE_GIT_HOSTS="${url.host}=<kind>" (kinds: ${PROVIDER_KINDS.join(", ")})${problems}`
  };
}
function blobId(content) {
  const bytes = typeof content === "string" ? Buffer.from(content) : content;
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}
var packIndexes = /* @__PURE__ */ new Map();
async function loadPackIndexes(commondir) {
  const dir = join(commondir, "objects", "pack");
  let names;
  let key;
  try {
    const info = statSync(dir);
    names = readdirSync(dir).filter((name) => name.endsWith(".idx")).sort();
    key = `${info.mtimeMs}:${names.join(",")}`;
  } catch {
    return [];
  }
  const cached = packIndexes.get(dir);
  if (cached?.key === key) return cached.indexes;
  const indexes = [];
  for (const name of names) {
    const data = readFileSync(join(dir, name));
    if (data.length < 8 + 1024 || data.readUInt32BE(0) !== 4285812579 || data.readUInt32BE(4) !== 2) {
      continue;
    }
    indexes.push({
      pack: join(dir, `${name.slice(0, -4)}.pack`),
      data,
      count: data.readUInt32BE(8 + 255 * 4)
    });
  }
  packIndexes.set(dir, { key, indexes });
  return indexes;
}
function findInPackIndex(index, oid) {
  const { data, count } = index;
  const first = oid[0];
  let low = first === 0 ? 0 : data.readUInt32BE(8 + (first - 1) * 4);
  let high = data.readUInt32BE(8 + first * 4);
  const oids = 8 + 256 * 4;
  while (low < high) {
    const middle = low + high >>> 1;
    const order = data.compare(oid, 0, 20, oids + middle * 20, oids + middle * 20 + 20);
    if (order === 0) {
      const offsets = oids + count * 20 + count * 4;
      const offset = data.readUInt32BE(offsets + middle * 4);
      if (offset & 2147483648) {
        const large = offsets + count * 4 + (offset & 2147483647) * 8;
        return Number(data.readBigUInt64BE(large));
      }
      return offset;
    }
    if (order > 0) high = middle;
    else low = middle + 1;
  }
  return void 0;
}
var PACKED_TYPES = [void 0, "commit", "tree", "blob", "tag"];
var OFS_DELTA = 6;
var REF_DELTA = 7;
var MAX_DELTA_DEPTH = 100;
var MAX_ENTRY_SIZE = 64 * 1024 * 1024;
var INFLATE_LIMIT = { maxOutputLength: MAX_ENTRY_SIZE + 64 };
function readAt(descriptor, position, length) {
  const chunk = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const read = readSync(descriptor, chunk, filled, length - filled, position + filled);
    if (read === 0) break;
    filled += read;
  }
  return chunk.subarray(0, filled);
}
async function readPackedObject(commondir, descriptor, offset, depth) {
  if (depth > MAX_DELTA_DEPTH) return void 0;
  const header = readAt(descriptor, offset, 32);
  let byte = header[0];
  const type = byte >> 4 & 7;
  let size = byte & 15;
  let position = 1;
  for (let shift = 4; byte & 128; shift += 7) {
    if (position >= header.length) return void 0;
    byte = header[position++];
    size += (byte & 127) * 2 ** shift;
  }
  if (size > MAX_ENTRY_SIZE) return void 0;
  let base;
  if (type === OFS_DELTA) {
    byte = header[position++];
    let distance = byte & 127;
    while (byte & 128) {
      if (position >= header.length) return void 0;
      byte = header[position++];
      distance = (distance + 1) * 128 + (byte & 127);
    }
    base = await readPackedObject(commondir, descriptor, offset - distance, depth + 1);
  } else if (type === REF_DELTA) {
    base = await readObjectAt(
      commondir,
      header.toString("hex", position, position + 20),
      depth + 1
    );
    position += 20;
  } else if (PACKED_TYPES[type] === void 0) {
    return void 0;
  }
  const compressed = readAt(descriptor, offset + position, size + Math.ceil(size / 1e3) + 64);
  const data = inflateSync(compressed, INFLATE_LIMIT);
  if (data.length !== size) return void 0;
  if (type !== OFS_DELTA && type !== REF_DELTA) {
    return { type: PACKED_TYPES[type], content: data };
  }
  if (!base) return void 0;
  const content = applyDelta(base.content, data);
  return content && { type: base.type, content };
}
function applyDelta(base, delta) {
  let position = 0;
  const varint2 = () => {
    let value = 0;
    let byte;
    let shift = 0;
    do {
      byte = delta[position++];
      value += (byte & 127) * 2 ** shift;
      shift += 7;
    } while (byte & 128 && position < delta.length);
    return value;
  };
  if (varint2() !== base.length) return void 0;
  const targetSize = varint2();
  if (targetSize > MAX_ENTRY_SIZE) return void 0;
  const target = Buffer.allocUnsafe(targetSize);
  let written = 0;
  while (position < delta.length) {
    const instruction = delta[position++];
    if (instruction & 128) {
      let from = 0;
      let length = 0;
      for (let bit = 0; bit < 4; bit++) {
        if (instruction & 1 << bit) from += delta[position++] * 2 ** (8 * bit);
      }
      for (let bit = 0; bit < 3; bit++) {
        if (instruction & 16 << bit) length += delta[position++] * 2 ** (8 * bit);
      }
      if (length === 0) length = 65536;
      if (from + length > base.length || written + length > target.length) return void 0;
      base.copy(target, written, from, from + length);
      written += length;
    } else if (instruction !== 0) {
      if (position + instruction > delta.length || written + instruction > target.length) {
        return void 0;
      }
      delta.copy(target, written, position, position + instruction);
      written += instruction;
      position += instruction;
    } else {
      return void 0;
    }
  }
  return written === target.length ? target : void 0;
}
async function readObjectAt(commondir, oid, depth) {
  let loose;
  try {
    loose = readFileSync(join(commondir, "objects", oid.slice(0, 2), oid.slice(2)));
  } catch {
    loose = void 0;
  }
  if (loose) {
    const data = inflateSync(loose, INFLATE_LIMIT);
    const nul = data.indexOf(0);
    const [type, size] = data.toString("latin1", 0, nul).split(" ");
    const content = data.subarray(nul + 1);
    if (!PACKED_TYPES.includes(type) || Number(size) !== content.length) {
      return void 0;
    }
    return { type, content };
  }
  const wanted = Buffer.from(oid, "hex");
  for (const index of await loadPackIndexes(commondir)) {
    const offset = findInPackIndex(index, wanted);
    if (offset === void 0) continue;
    const descriptor = openSync(index.pack, "r");
    try {
      return await readPackedObject(commondir, descriptor, offset, depth);
    } finally {
      closeSync(descriptor);
    }
  }
  return void 0;
}
async function readObjectFast(commondir, oid) {
  try {
    const object = await readObjectAt(commondir, oid, 0);
    if (!object) return void 0;
    const id = createHash("sha1").update(`${object.type} ${object.content.length}\0`).update(object.content).digest("hex");
    return id === oid ? object : void 0;
  } catch {
    return void 0;
  }
}
async function readCommitTreeFast(commondir, oid) {
  const commit = await readObjectFast(commondir, oid);
  if (commit?.type !== "commit") return void 0;
  return /^tree ([0-9a-f]{40})\n/.exec(commit.content.toString("latin1", 0, 64))?.[1];
}
var STAT_DATA_SIZE = 36;
var OID_SIZE = 20;
var STATUS_DIR_FLAGS = 6;
function varint(data, at, end) {
  let byte = readByte(data, at, end);
  let value = byte & 127;
  while (byte & 128) {
    byte = readByte(data, at, end);
    value = (value + 1) * 128 + (byte & 127);
  }
  return value;
}
function readByte(data, at, end) {
  if (at.offset >= end) throw new RangeError("the untracked cache ends early");
  return data[at.offset++];
}
function nulTerminated(data, at, end) {
  let nul = at.offset;
  while (nul < end && data[nul] !== 0) nul++;
  if (nul >= end) throw new RangeError("the untracked cache ends inside a name");
  const bytes = data.subarray(at.offset, nul);
  at.offset = nul + 1;
  return bytes;
}
function storedStat(data, offset) {
  const view = new DataView(data.buffer, data.byteOffset + offset, STAT_DATA_SIZE);
  const field = (n) => view.getUint32(4 * n);
  return {
    ctimeMs: milliseconds(field(0), field(1)),
    mtimeSeconds: field(2),
    mtimeMs: milliseconds(field(2), field(3)),
    ino: field(5),
    uid: field(6),
    gid: field(7),
    size: field(8)
  };
}
function oidAt(data, offset) {
  const oid = data.toString("hex", offset, offset + OID_SIZE);
  return /^0+$/.test(oid) ? void 0 : oid;
}
function ewahBits(data, at, end, limit) {
  if (at.offset + 8 > end) throw new RangeError("the untracked cache ends inside a bitmap");
  const words = data.readUInt32BE(at.offset + 4);
  const start = at.offset + 8;
  const wordsEnd = start + 8 * words;
  if (wordsEnd + 4 > end) throw new RangeError("the untracked cache ends inside a bitmap");
  const bits = [];
  let position = 0;
  let word = 0;
  while (word < words) {
    const high = data.readUInt32BE(start + 8 * word);
    const low = data.readUInt32BE(start + 8 * word + 4);
    const run = (low >>> 1) + (high & 1) * 2 ** 31;
    const literals = high >>> 1;
    if (low & 1) for (let k = position; k < Math.min(position + run * 64, limit); k++) bits.push(k);
    position += run * 64;
    word += 1;
    for (let literal = 0; literal < literals && word < words; literal++, word++) {
      const literalHigh = data.readUInt32BE(start + 8 * word);
      const literalLow = data.readUInt32BE(start + 8 * word + 4);
      for (let bit = 0; bit < 32; bit++) if (literalLow >>> bit & 1) bits.push(position + bit);
      for (let bit = 0; bit < 32; bit++) {
        if (literalHigh >>> bit & 1) bits.push(position + 32 + bit);
      }
      position += 64;
    }
  }
  at.offset = wordsEnd + 4;
  return bits;
}
function parseUntrackedCache(data) {
  if (data.length <= 1 || data[data.length - 1] !== 0) return void 0;
  const end = data.length - 1;
  const at = { offset: 0 };
  try {
    const identLength = varint(data, at, end);
    if (at.offset + identLength > end) return void 0;
    const identBytes = data.subarray(at.offset, at.offset + identLength);
    const identEnd = identBytes.indexOf(0);
    const ident = identBytes.toString("utf8", 0, identEnd < 0 ? identBytes.length : identEnd);
    at.offset += identLength;
    const fixed = at.offset;
    if (fixed + 2 * STAT_DATA_SIZE + 4 + 2 * OID_SIZE >= end) return void 0;
    const dirFlags = data.readUInt32BE(fixed + 2 * STAT_DATA_SIZE);
    const infoExcludeOid = oidAt(data, fixed + 2 * STAT_DATA_SIZE + 4);
    const excludesFileOid = oidAt(data, fixed + 2 * STAT_DATA_SIZE + 4 + OID_SIZE);
    at.offset = fixed + 2 * STAT_DATA_SIZE + 4 + 2 * OID_SIZE;
    const excludePerDir = nulTerminated(data, at, end).toString("utf8");
    const header = { ident, infoExcludeOid, excludesFileOid, dirFlags, excludePerDir };
    if (at.offset >= end) return { ...header, root: void 0 };
    const count = varint(data, at, end);
    if (count === 0) return at.offset === end ? { ...header, root: void 0 } : void 0;
    const all = [];
    const readDirectory = () => {
      const untrackedCount = varint(data, at, end);
      const directoryCount = varint(data, at, end);
      const directory = {
        name: nulTerminated(data, at, end),
        untracked: [],
        directories: [],
        valid: false,
        checkOnly: false,
        stat: void 0,
        excludeOid: void 0
      };
      for (let i = 0; i < untrackedCount; i++)
        directory.untracked.push(nulTerminated(data, at, end));
      all.push(directory);
      if (all.length > count) throw new RangeError("more directories than the count");
      for (let i = 0; i < directoryCount; i++) directory.directories.push(readDirectory());
      return directory;
    };
    const root = readDirectory();
    if (all.length !== count) return void 0;
    const valid = ewahBits(data, at, end, count);
    const checkOnly = ewahBits(data, at, end, count);
    const withOid = ewahBits(data, at, end, count);
    for (const position of checkOnly) {
      const directory = all[position];
      if (directory) directory.checkOnly = true;
    }
    for (const position of valid) {
      const directory = all[position];
      if (!directory) continue;
      if (at.offset + STAT_DATA_SIZE > end) return void 0;
      directory.stat = storedStat(data, at.offset);
      directory.valid = true;
      at.offset += STAT_DATA_SIZE;
    }
    for (const position of withOid) {
      const directory = all[position];
      if (!directory) continue;
      if (at.offset + OID_SIZE > end) return void 0;
      directory.excludeOid = oidAt(data, at.offset);
      at.offset += OID_SIZE;
    }
    return at.offset === end ? { ...header, root } : void 0;
  } catch (error) {
    if (error instanceof RangeError) return void 0;
    throw error;
  }
}
var parsed = /* @__PURE__ */ new WeakMap();
function untrackedCacheOf(index) {
  if (!parsed.has(index)) {
    const data = index.untrackedCacheData;
    parsed.set(index, data ? parseUntrackedCache(data) : void 0);
  }
  return parsed.get(index);
}
function untrackedCacheIdent(worktree) {
  return `Location ${worktree}, system ${type()}`;
}
function sameIgnoreContent(content, oid) {
  if (content === void 0 || oid === void 0) return content === void 0 && oid === void 0;
  return blobId(content) === oid || blobId(Buffer.concat([content, Buffer.from("\n")])) === oid;
}
function storedStatMatches(stored, stats, indexSeconds, trustCtime) {
  return stored.mtimeSeconds < indexSeconds && matchesStoredStat(stats, stored, trustCtime);
}
var SLASH = 47;
var GITIGNORE = Buffer.from(".gitignore");
var DIRECTORY_BATCH = 1024;
async function untrackedFromCache(context) {
  const cache2 = untrackedCacheOf(context.index);
  if (!cache2?.root) return void 0;
  if (cache2.dirFlags !== STATUS_DIR_FLAGS || cache2.excludePerDir !== ".gitignore") return void 0;
  if (cache2.ident !== untrackedCacheIdent(context.worktree)) return void 0;
  const { infoExclude, excludesFile } = context.excludeSources;
  if (!sameIgnoreContent(infoExclude, cache2.infoExcludeOid) || !sameIgnoreContent(excludesFile, cache2.excludesFileOid)) {
    return void 0;
  }
  const indexSeconds = context.index.mtime.seconds;
  const worktreePrefix = Buffer.from(`${context.worktree}/`);
  let path = Buffer.allocUnsafe(1024);
  const pending = [
    { directory: cache2.root, length: 0, checkOnly: false, listed: 0 }
  ];
  let checked = 0;
  let first;
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (checked > 0 && checked % DIRECTORY_BATCH === 0) {
      await new Promise((done) => setImmediate(done));
    }
    throwIfAborted(context.signal, "Checking git's untracked cache");
    const { directory, length, checkOnly, listed } = next;
    if (length > 0) {
      const start = length - directory.name.length - 1;
      if (length > path.length) {
        const larger = Buffer.allocUnsafe(2 * length);
        path.copy(larger, 0, 0, start);
        path = larger;
      }
      directory.name.copy(path, start);
      path[length - 1] = SLASH;
    }
    if (!directory.valid || !directory.stat || directory.checkOnly !== checkOnly) return void 0;
    let stats;
    try {
      stats = context.lstat(path, 0, length);
    } catch {
      return void 0;
    }
    if (!stats || (stats.mode & MODE_TYPE_MASK) !== MODE_TREE) return void 0;
    if (!storedStatMatches(directory.stat, stats, indexSeconds, context.trustCtime)) {
      return void 0;
    }
    if (directory.excludeOid !== void 0) {
      const file = Buffer.concat([worktreePrefix, path.subarray(0, length), GITIGNORE]);
      if (!sameIgnoreContent(readIfFile(file), directory.excludeOid)) return void 0;
    }
    checked += 1;
    const name = directory.untracked[0];
    if (first === void 0 && name !== void 0) {
      first = checkOnly ? path.toString("utf8", 0, listed) : `${path.toString("utf8", 0, length)}${name.toString("utf8")}`;
    }
    for (let i = directory.directories.length - 1; i >= 0; i--) {
      const child = directory.directories[i];
      const childLength = length + child.name.length + 1;
      pending.push({
        directory: child,
        length: childLength,
        checkOnly: child.checkOnly || checkOnly,
        listed: checkOnly ? listed : childLength
      });
    }
  }
  if (context.counters) context.counters.untrackedCacheDirectories += checked;
  return { change: first === void 0 ? void 0 : `untracked: ${first}` };
}

// src/worktree-status.ts
var objectCache = {};
var isomorphicGit;
function loadIsomorphicGit() {
  isomorphicGit ??= import('isomorphic-git');
  return isomorphicGit;
}
var commitTrees = /* @__PURE__ */ new Map();
async function treeOfCommit(commondir, commitSha) {
  const key = `${commondir}\0${commitSha}`;
  const cached = commitTrees.get(key);
  if (cached) return cached;
  let tree = await readCommitTreeFast(commondir, commitSha).catch(() => void 0);
  try {
    if (tree === void 0) {
      const { readCommit } = await loadIsomorphicGit();
      tree = (await readCommit({ fs: fs, gitdir: commondir, oid: commitSha, cache: objectCache })).commit.tree;
    }
  } catch (error) {
    throw new GitError(
      "corrupt_repository",
      `Cannot read commit ${commitSha} in ${commondir}: ${error.message}. Check the repository with \`git fsck\`.`,
      { cause: error, details: { commondir, commitSha } }
    );
  }
  commitTrees.set(key, tree);
  return tree;
}
var treeCache = /* @__PURE__ */ new Map();
function parseTree(content) {
  const entries = /* @__PURE__ */ new Map();
  let position = 0;
  while (position < content.length) {
    const space = content.indexOf(32, position);
    const nul = content.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 21 > content.length) return void 0;
    const mode = Number.parseInt(content.toString("latin1", position, space), 8);
    const type = mode === MODE_TREE ? "tree" : mode === MODE_GITLINK ? "commit" : "blob";
    entries.set(content.toString("latin1", space + 1, nul), {
      mode,
      oid: content.toString("hex", nul + 1, nul + 21),
      type
    });
    position = nul + 21;
  }
  return entries;
}
async function readTreeEntries(commondir, oid, counters) {
  const cached = treeCache.get(oid);
  if (cached) return cached;
  if (counters) counters.treesRead += 1;
  const object = await readObjectFast(commondir, oid);
  let entries;
  if (object?.type === "tree") entries = parseTree(object.content);
  if (!entries) {
    const { readTree } = await loadIsomorphicGit();
    const { tree } = await readTree({ fs: fs, gitdir: commondir, oid, cache: objectCache });
    entries = /* @__PURE__ */ new Map();
    for (const entry of tree) {
      entries.set(Buffer.from(entry.path).toString("latin1"), {
        mode: Number.parseInt(entry.mode, 8),
        oid: entry.oid,
        type: entry.type
      });
    }
  }
  if (treeCache.size > 2e4) treeCache.clear();
  treeCache.set(oid, entries);
  return entries;
}
async function headEntry(repo, path) {
  let tree = await treeOfCommit(repo.layout.commondir, repo.commitSha);
  const segments = Buffer.from(path).toString("latin1").split("/");
  for (let i = 0; i < segments.length; i++) {
    const entry = (await readTreeEntries(repo.layout.commondir, tree, void 0)).get(
      segments[i]
    );
    if (!entry) return void 0;
    if (i === segments.length - 1) return entry;
    if (entry.type !== "tree") return void 0;
    tree = entry.oid;
  }
  return void 0;
}
async function hashWorktreeFile(file, isSymlink) {
  return blobId(
    isSymlink ? Buffer.from(await readlink(file, { encoding: "buffer" })) : await readFile(file)
  );
}
function modeOf(stats, fileMode, indexMode) {
  const type = stats.mode & MODE_TYPE_MASK;
  if (type === MODE_SYMLINK) return MODE_SYMLINK;
  if (type === MODE_TREE) return MODE_TREE;
  if (!fileMode) return (indexMode & MODE_TYPE_MASK) === MODE_FILE ? indexMode : MODE_REGULAR;
  return stats.mode & 64 ? MODE_EXECUTABLE : MODE_REGULAR;
}
function compareStat(repo, i, stats) {
  if (!stats) return "changed";
  const { index, settings } = repo;
  const mode = index.modes[i];
  if (modeOf(stats, settings.fileMode, mode) !== mode) return "changed";
  const size = index.statField(i, EntryField.size);
  const seconds = index.statField(i, EntryField.mtimeSeconds);
  let same;
  if (settings.minimalStat) {
    same = Math.floor(stats.mtimeMs / 1e3) === seconds && stats.size % TWO_TO_32 === size;
  } else {
    const stored = {
      mtimeMs: index.mtimeMs(i),
      ctimeMs: index.ctimeMs(i),
      ino: index.statField(i, EntryField.ino),
      uid: index.statField(i, EntryField.uid),
      gid: index.statField(i, EntryField.gid),
      size
    };
    same = matchesStoredStat(stats, stored, settings.trustCtime);
  }
  if (!same) {
    if (size !== 0 && stats.size % TWO_TO_32 !== size) return "changed";
    return "hash";
  }
  if (seconds > index.mtime.seconds || seconds === index.mtime.seconds && index.statField(i, EntryField.mtimeNanoseconds) >= index.mtime.nanoseconds) {
    return "hash";
  }
  return "same";
}
async function findFirstChange(repo, options = {}) {
  const head = () => compareHeadWithIndex(repo, options);
  const worktree = async () => await compareIndexWithWorktree(repo, options) ?? (repo.settings.showUntracked ? await findUntracked(repo, options) : void 0);
  if (repo.index.hasCacheTree) return await head() ?? await worktree();
  return await worktree() ?? await head();
}
async function compareHeadWithIndex(repo, options) {
  const { index } = repo;
  const unusual = index.firstUnmergedOrIntentToAdd;
  if (unusual >= 0) {
    return `${index.stage(unusual) !== 0 ? "unmerged" : "added"}: ${index.path(unusual)}`;
  }
  const headTree = await treeOfCommit(repo.layout.commondir, repo.commitSha);
  if (index.cacheTreeRootOid === headTree) return void 0;
  const hashedBefore = index.treesHashed;
  const trees = index.trees();
  if (options.counters) options.counters.treesHashed += index.treesHashed - hashedBefore;
  if (trees.get("")?.oid === headTree) return void 0;
  let position = 0;
  const pathAt = (at) => at < index.count ? index.bytePath(at) : void 0;
  const shown = (bytePath) => Buffer.from(bytePath, "latin1").toString("utf8");
  const walk = async (treeOid, prefix) => {
    throwIfAborted(options.signal, "Comparing HEAD with the index");
    const tree = await readTreeEntries(repo.layout.commondir, treeOid, options.counters);
    const names = [...tree.keys()].sort((a, b) => {
      const left = tree.get(a)?.type === "tree" ? `${a}/` : a;
      const right = tree.get(b)?.type === "tree" ? `${b}/` : b;
      return left < right ? -1 : left > right ? 1 : 0;
    });
    for (const name of names) {
      const item = tree.get(name);
      const path = prefix + name;
      if (item.type === "tree") {
        const directoryPrefix = `${path}/`;
        const directory = trees.get(directoryPrefix);
        if (!directory) return `deleted: ${shown(directoryPrefix)}`;
        if (directory.oid === item.oid) {
          const end = position + directory.entries;
          if (pathAt(end - 1)?.startsWith(directoryPrefix) && !pathAt(end)?.startsWith(directoryPrefix)) {
            position = end;
          } else {
            while (pathAt(position)?.startsWith(directoryPrefix)) position++;
          }
          continue;
        }
        const change = await walk(item.oid, directoryPrefix);
        if (change) return change;
        continue;
      }
      const indexPath = pathAt(position);
      if (indexPath !== path) {
        return indexPath !== void 0 && indexPath < path ? `added: ${shown(indexPath)}` : `deleted: ${shown(path)}`;
      }
      if (index.oid(position) !== item.oid || index.modes[position] !== item.mode) {
        return `modified: ${shown(path)}`;
      }
      position++;
    }
    const extra = pathAt(position);
    if (extra?.startsWith(prefix)) return `added: ${shown(extra)}`;
    return void 0;
  };
  return await walk(headTree, "") ?? "modified: (the index differs from HEAD)";
}
var STAT_BATCH = 1024;
function statRange(repo, start, end, raw, read, leftovers, counters) {
  const { index } = repo;
  const { modes, view, entryOffsets } = index;
  const { fileMode, trustCtime, minimalStat } = repo.settings;
  const { seconds: indexSeconds, nanoseconds: indexNanoseconds } = index.mtime;
  const inline = raw !== void 0 && fileMode && !minimalStat;
  for (let i = start; i < end; i++) {
    if (index.isUnmergedOrNotCompared(i)) continue;
    const mode = modes[i];
    if ((mode & MODE_TYPE_MASK) === MODE_GITLINK) {
      leftovers.submodules.push(i);
      continue;
    }
    if (counters) counters.lstat += 1;
    if (inline && (mode & MODE_TYPE_MASK) === MODE_FILE) {
      const fields = raw(i);
      if (fields) {
        const offset = entryOffsets[i];
        const diskMode = fields[LstatField.mode];
        const seconds = view.getUint32(offset + EntryField.mtimeSeconds);
        const nanoseconds = view.getUint32(offset + EntryField.mtimeNanoseconds);
        if ((diskMode & MODE_TYPE_MASK) === MODE_FILE && (diskMode & 64 ? MODE_EXECUTABLE : MODE_REGULAR) === mode && fields[LstatField.mtimeSeconds] === seconds && fields[LstatField.mtimeNanoseconds] === nanoseconds && (!trustCtime || fields[LstatField.ctimeSeconds] === view.getUint32(offset + EntryField.ctimeSeconds) && fields[LstatField.ctimeNanoseconds] === view.getUint32(offset + EntryField.ctimeNanoseconds)) && fields[LstatField.ino] % TWO_TO_32 === view.getUint32(offset + EntryField.ino) && fields[LstatField.uid] === view.getUint32(offset + EntryField.uid) && fields[LstatField.gid] === view.getUint32(offset + EntryField.gid) && fields[LstatField.size] % TWO_TO_32 === view.getUint32(offset + EntryField.size) && (seconds < indexSeconds || seconds === indexSeconds && nanoseconds < indexNanoseconds)) {
          continue;
        }
      }
    }
    const stats = read(i);
    const verdict = compareStat(repo, i, stats);
    if (verdict === "changed") return `${stats ? "modified" : "deleted"}: ${index.path(i)}`;
    if (verdict === "hash") leftovers.toHash.push(i);
  }
  return void 0;
}
async function compareIndexWithWorktree(repo, options) {
  const { index } = repo;
  const { count, modes } = index;
  const { bytes, starts, ends } = index.pathBytes;
  const root = repo.layout.worktree;
  const prefix = `${root}/`;
  const leftovers = { toHash: [], submodules: [] };
  const fromBytes = relativeLstat(prefix, options.lstat);
  const read = (i) => fromBytes(bytes, starts[i], ends[i]);
  const rawBytes = options.lstat ? void 0 : rawPrefixedLstatReader(prefix);
  const raw = rawBytes && ((i) => rawBytes(bytes, starts[i], ends[i]));
  for (let start = 0; start < count; start += STAT_BATCH) {
    if (start > 0) await new Promise((done) => setImmediate(done));
    throwIfAborted(options.signal, "Comparing the worktree with the index");
    const end = Math.min(start + STAT_BATCH, count);
    const change = statRange(repo, start, end, raw, read, leftovers, options.counters);
    if (change) return change;
  }
  const { toHash, submodules } = leftovers;
  const prefixBytes = Buffer.from(prefix);
  const hashChange = await firstOf(
    toHash,
    async (i) => {
      if (options.counters) options.counters.hashed += 1;
      const isSymlink = (modes[i] & MODE_TYPE_MASK) === MODE_SYMLINK;
      const file = Buffer.concat([prefixBytes, bytes.subarray(starts[i], ends[i])]);
      const oid = await hashWorktreeFile(file, isSymlink).catch(() => void 0);
      return oid === index.oid(i) ? void 0 : `modified: ${index.path(i)}`;
    },
    options
  );
  if (hashChange) return hashChange;
  return firstOf(
    submodules,
    async (i) => {
      const path = index.path(i);
      const submodule = await repo.openSubmodule(join(root, path));
      if (!submodule) return void 0;
      if (submodule.commitSha !== index.oid(i)) {
        return `modified: ${path} (submodule at another commit)`;
      }
      const inner = await findFirstChange(submodule, options);
      return inner ? `modified: ${path} (submodule ${inner})` : void 0;
    },
    options
  );
}
function relativeLstat(prefix, lstat) {
  if (!lstat) return prefixedLstatReader(prefix);
  const prefixBytes = Buffer.from(prefix);
  return (source, start, end) => lstat(Buffer.concat([prefixBytes, source.subarray(start, end)]));
}
async function firstOf(items, check, options) {
  let next = 0;
  let found;
  const worker = async () => {
    while (found === void 0 && next < items.length) {
      throwIfAborted(options.signal, "Checking the worktree");
      const result = await check(items[next++]);
      if (result !== void 0 && found === void 0) found = result;
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency ?? 8, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return found;
}
var trackedTrees = /* @__PURE__ */ new WeakMap();
var SLASH2 = 47;
function trackedTree(index) {
  const cached = trackedTrees.get(index);
  if (cached) return cached;
  const { count, modes } = index;
  const { bytes, starts, ends } = index.pathBytes;
  let exact = true;
  let i = 0;
  const build = (from, length) => {
    const start = i;
    let names = 0;
    const subdirectories = [];
    entries: while (i < count) {
      const pathStart = starts[i];
      const pathEnd = ends[i];
      if (pathEnd - pathStart < length) break;
      for (let k = 0; k < length; k++) {
        if (bytes[pathStart + k] !== bytes[from + k]) break entries;
      }
      let slash = pathStart + length;
      while (slash < pathEnd && bytes[slash] !== SLASH2) slash++;
      names += 1;
      if (slash >= pathEnd - 1) {
        if (slash === pathEnd - 1 || index.isUnmergedOrNotCompared(i) || (modes[i] & MODE_TYPE_MASK) === MODE_GITLINK) {
          exact = false;
        }
        i += 1;
      } else {
        subdirectories.push(build(pathStart, slash + 1 - pathStart));
      }
    }
    const path = length === 0 ? "" : bytes.toString("latin1", from, from + length - 1);
    return { path, start, end: i, count: names, subdirectories };
  };
  const tree = build(0, 0);
  trackedTrees.set(index, { tree, exact });
  return { tree, exact };
}
function trackedNames(index, node) {
  const names = /* @__PURE__ */ new Set();
  const from = node.path === "" ? 0 : node.path.length + 1;
  let i = node.start;
  for (const child of node.subdirectories) {
    for (; i < child.start; i++) names.add(index.bytePath(i).slice(from).replace(/\/$/, ""));
    names.add(child.path.slice(from));
    i = child.end;
  }
  for (; i < node.end; i++) names.add(index.bytePath(i).slice(from).replace(/\/$/, ""));
  return names;
}
async function findUntracked(repo, options) {
  const root = repo.layout.worktree;
  const { index } = repo;
  const { ignoreCase } = repo.settings;
  if (repo.settings.untrackedCache) {
    const cached = await untrackedFromCache({
      worktree: root,
      index,
      trustCtime: repo.settings.trustCtime,
      excludeSources: repo.excludeSources,
      lstat: relativeLstat(`${root}/`, options.lstat),
      signal: options.signal,
      counters: options.counters
    });
    if (cached) return cached.change;
  }
  const { tree, exact } = trackedTree(index);
  let visited = 0;
  const isDotGit = ignoreCase ? (name) => name.length === 4 && name.toLowerCase() === ".git" : (name) => name === ".git";
  const dotGitCount = (names) => {
    let count = 0;
    for (const name of names) if (isDotGit(name)) count += 1;
    return count;
  };
  const rootBytes = Buffer.from(root).toString("latin1");
  const onDisk = (relative2) => Buffer.from(relative2 === "" ? rootBytes : `${rootBytes}/${relative2}`, "latin1");
  const text = (relative2) => Buffer.from(relative2, "latin1").toString("utf8");
  const readNames = (relative2) => {
    if (options.counters) options.counters.directoriesRead += 1;
    try {
      return fs.readdirSync(onDisk(relative2), { encoding: "latin1" });
    } catch {
      return [];
    }
  };
  const isDirectoryOnDisk = (path) => fs.lstatSync(onDisk(path), { throwIfNoEntry: false })?.isDirectory() ?? false;
  const isIgnoredPath = (path, isDirectory, levels) => isIgnored(text(path), isDirectory, levels, repo.excludes);
  const levelFor = (relative2, names) => {
    if (!names.includes(".gitignore")) return void 0;
    const content = readIfFile(onDisk(relative2 === "" ? ".gitignore" : `${relative2}/.gitignore`));
    if (content === void 0) return void 0;
    return {
      base: text(relative2),
      rules: compileIgnoreRules(content.toString("utf8"), ignoreCase)
    };
  };
  const hasVisibleContent = async (relative2, levels) => {
    const names = readNames(relative2);
    if (dotGitCount(names) > 0 && isNestedRepository(join(root, text(relative2)))) return true;
    const level = levelFor(relative2, names);
    const inner = level ? [...levels, level] : levels;
    for (const name of names) {
      if (isDotGit(name)) continue;
      const path = `${relative2}/${name}`;
      const isDirectory = isDirectoryOnDisk(path);
      if (isIgnoredPath(path, isDirectory, inner)) continue;
      if (!isDirectory) return true;
      if (await hasVisibleContent(path, inner)) return true;
    }
    return false;
  };
  const isInIgnoredDirectory = (directory) => {
    if (!directory || directory.path === "") return false;
    directory.ignored ??= isInIgnoredDirectory(directory.parent) || isIgnoredPath(directory.path, true, directory.levels);
    return directory.ignored;
  };
  const scan = async (node, directory) => {
    if (++visited % 64 === 0) {
      throwIfAborted(options.signal, "Looking for untracked files");
      await new Promise((done) => setImmediate(done));
    }
    const relative2 = directory.path;
    const names = readNames(relative2);
    const level = levelFor(relative2, names);
    const inner = level ? [...directory.levels, level] : directory.levels;
    const onDisk2 = names.length - dotGitCount(names);
    if (!exact || onDisk2 !== node.count) {
      const tracked = trackedNames(index, node);
      for (const name of names) {
        if (tracked.has(name) || isDotGit(name)) continue;
        if (isInIgnoredDirectory(directory)) return void 0;
        const path = relative2 === "" ? name : `${relative2}/${name}`;
        const isDirectory = isDirectoryOnDisk(path);
        if (isIgnoredPath(path, isDirectory, inner)) continue;
        if (!isDirectory) return `untracked: ${text(path)}`;
        if (await hasVisibleContent(path, inner)) return `untracked: ${text(path)}/`;
      }
    }
    for (const child of node.subdirectories) {
      const change = await scan(child, { path: child.path, parent: directory, levels: inner });
      if (change) return change;
    }
    return void 0;
  };
  return scan(tree, { path: "", parent: void 0, levels: [] });
}
async function headEntryFromIndex(repo, path) {
  const { index } = repo;
  const rootOid = index.cacheTreeRootOid;
  if (rootOid === void 0) return void 0;
  if (rootOid !== await treeOfCommit(repo.layout.commondir, repo.commitSha)) return void 0;
  const position = index.position(path);
  if (position === void 0 || index.stage(position) !== 0 || index.isIntentToAdd(position)) {
    return void 0;
  }
  const mode = index.modes[position];
  return { mode, oid: index.oid(position), type: mode === MODE_GITLINK ? "commit" : "blob" };
}
async function fileStateAgainstHead(repo, path) {
  const head = await headEntryFromIndex(repo, path) ?? await headEntry(repo, path);
  if (!head || head.type === "tree") return "not-committed";
  const file = join(repo.layout.worktree, path);
  const stats = lstatReader()(file);
  if (!stats) return "deleted";
  const isSymlink = (stats.mode & MODE_TYPE_MASK) === MODE_SYMLINK;
  const { index } = repo;
  const position = index.position(path);
  if (position !== void 0 && index.stage(position) === 0 && index.oid(position) === head.oid && index.modes[position] === head.mode) {
    const verdict = compareStat(repo, position, stats);
    if (verdict === "same") return "clean";
    if (verdict === "changed") return "modified";
  }
  if (modeOf(stats, repo.settings.fileMode, head.mode) !== head.mode) return "modified";
  const oid = await hashWorktreeFile(file, isSymlink);
  return oid === head.oid ? "clean" : "modified";
}

// src/git-status.ts
function configsOf(configs, prefix) {
  const names = /* @__PURE__ */ new Set();
  for (const config of configs) {
    for (const key of config.keys()) {
      if (key.startsWith(prefix) && key.endsWith(".url")) names.add(key.slice(prefix.length, -4));
    }
  }
  return [...names];
}
function rewriteUrl(url, configs, push) {
  let best;
  for (const config of configs) {
    for (const [key, values] of config) {
      const match = /^url\.(.*)\.(insteadof|pushinsteadof)$/.exec(key);
      if (!match?.[1]) continue;
      if (match[2] === "pushinsteadof" && !push) continue;
      for (const from of values) {
        if (url.startsWith(from) && (!best || from.length > best.from.length)) {
          best = { from, to: match[1] };
        }
      }
    }
  }
  return best ? best.to + url.slice(best.from.length) : url;
}
function chooseRemote(configs) {
  const names = configsOf(configs, "remote.").sort();
  const name = names.includes("origin") ? "origin" : names[0];
  if (name === void 0) return void 0;
  const pushUrl = configValue(configs, `remote.${name}.pushurl`);
  if (pushUrl !== void 0) return { name, rawUrl: rewriteUrl(pushUrl, configs, false) };
  const url = configValue(configs, `remote.${name}.url`) ?? "";
  return { name, rawUrl: rewriteUrl(url, configs, true) };
}
async function inspect(layout, userConfigs) {
  const [repoConfig, users] = await Promise.all([
    readRepositoryConfig(layout),
    userConfigs ?? readUserConfigs()
  ]);
  const configs = [...users, repoConfig];
  const base = { layout, repo: void 0, branch: void 0, isShallow: false, remote: void 0 };
  const objectFormat = configValue([repoConfig], "extensions.objectformat");
  if (objectFormat !== void 0 && objectFormat.toLowerCase() !== "sha1") {
    return {
      ...base,
      reason: `the repository ${layout.worktree} uses ${objectFormat} object ids, which @flyte/git (through isomorphic-git) cannot read yet`
    };
  }
  const refStorage = configValue([repoConfig], "extensions.refstorage");
  if (refStorage !== void 0 && refStorage.toLowerCase() !== "files") {
    return {
      ...base,
      reason: `the repository ${layout.worktree} stores refs as ${refStorage}, which @flyte/git cannot read; only the "files" ref storage is supported`
    };
  }
  const [head, isShallow] = await Promise.all([resolveHead(layout), isShallowRepository(layout)]);
  const remote = chooseRemote(configs);
  if (head.oid === void 0) {
    return {
      ...base,
      branch: head.branch,
      isShallow,
      remote,
      reason: `the repository ${layout.worktree} has no commits yet${head.branch ? ` on branch ${head.branch}` : ""}; commit once to get a commit SHA`
    };
  }
  const index = await readGitIndex(layout.gitdir);
  const ignoreCase = configBoolean(configValue(configs, "core.ignorecase"), false);
  const excludes = readExcludeRules(
    layout.worktree,
    layout.commondir,
    configValue(configs, "core.excludesfile"),
    ignoreCase
  );
  const showUntracked = configValue(configs, "status.showuntrackedfiles")?.toLowerCase() ?? "normal";
  const repo = {
    layout,
    index,
    commitSha: head.oid,
    excludes: excludes.rules,
    excludeSources: excludes.sources,
    settings: {
      fileMode: configBoolean(configValue(configs, "core.filemode"), true),
      trustCtime: configBoolean(configValue(configs, "core.trustctime"), true),
      minimalStat: configValue(configs, "core.checkstat")?.toLowerCase() === "minimal",
      ignoreCase,
      // normal and all list untracked files; git's false spellings do not.
      showUntracked: configBoolean(showUntracked, true),
      // As git status: the cache is made for its default listing (not for -uall), and is
      // ignored when core.untrackedCache is false (git then also drops it from the index) or
      // GIT_DISABLE_UNTRACKED_CACHE is set.
      untrackedCache: showUntracked !== "all" && configBoolean(configValue(configs, "core.untrackedcache"), true) && !configBoolean(process.env.GIT_DISABLE_UNTRACKED_CACHE, false)
    },
    openSubmodule: async (worktree) => {
      const inner = await layoutAt(worktree);
      return inner ? (await inspect(inner, users)).repo : void 0;
    }
  };
  return { layout, repo, branch: head.branch, isShallow, remote, reason: void 0 };
}
var GitStatus = class _GitStatus {
  /** Whether links can be made: a repository with a commit and a hosted remote. */
  isValid;
  /** Why the status is not valid (not a repository, no commits yet, no remote, ...). */
  reason;
  /** The worktree root (symlinks resolved), or undefined outside a repository. */
  repoDir;
  /** The full SHA of HEAD, or undefined when there are no commits yet. */
  commitSha;
  /** The name of the remote links point to: `origin`, or else the first alphabetically. */
  remoteName;
  /** The remote's web URL, https (or http for an http remote), never with credentials. */
  remoteUrl;
  /**
   * Whether HEAD, the index and the worktree agree and there is no untracked file that is not
   * ignored (what an empty `git status --porcelain` means). Undefined when not checked
   * (`checkTree: false`); false outside a repository or without commits.
   */
  isTreeClean;
  /** The first difference found when the tree is not clean, for example `modified: src/a.ts`. */
  firstChange;
  /** The checked-out branch, or undefined when HEAD is detached. */
  branch;
  /** Whether the repository is a shallow clone. */
  isShallow;
  #repo;
  #pushed;
  constructor(fields) {
    const { inspection } = fields;
    const remoteUrl = inspection.remote ? normalizeRemoteUrl(inspection.remote.rawUrl) : void 0;
    let reason = inspection.reason;
    if (reason === void 0 && !inspection.remote) {
      reason = `the repository ${inspection.layout?.worktree} has no remote; add one with \`git remote add origin <url>\` to get links`;
    } else if (reason === void 0 && remoteUrl === void 0) {
      reason = `the remote "${inspection.remote?.name}" has URL ${JSON.stringify(inspection.remote?.rawUrl)}, which is a local path or not a hosted repository, so no link can be made`;
    }
    this.isValid = reason === void 0;
    this.reason = reason;
    this.repoDir = inspection.layout?.worktree;
    this.commitSha = inspection.repo?.commitSha;
    this.remoteName = inspection.remote?.name;
    this.remoteUrl = remoteUrl;
    this.isTreeClean = fields.isTreeClean;
    this.firstChange = fields.firstChange;
    this.branch = inspection.branch;
    this.isShallow = inspection.isShallow;
    this.#repo = inspection.repo;
  }
  /**
   * Reads the repository that contains `dir` (default: the current directory), walking up from it
   * as git does. Never throws for "not a repository", "no commits yet" or "no remote": it returns
   * a status with `isValid: false` and a `reason`.
   *
   * @param dir - Any directory or file inside the repository.
   * @param options - Cancellation, whether to check the whole tree, hashing concurrency.
   * @throws GitError `corrupt_index` or `corrupt_repository` when git's own files are damaged,
   *   `aborted` when `options.signal` fires.
   */
  static async fromRepo(dir = process.cwd(), options = {}) {
    return _GitStatus.#create(dir, options, void 0);
  }
  /** Same as {@link GitStatus.fromRepo} for the current directory (flyte-sdk's name). */
  static fromCurrentRepo(options = {}) {
    return _GitStatus.fromRepo(process.cwd(), options);
  }
  static {
  }
  static async #create(dir, options, internals) {
    throwIfAborted(options.signal, "GitStatus.fromRepo");
    const layout = await discoverRepository(resolve(dir));
    if (!layout) {
      return new _GitStatus({
        inspection: {
          layout: void 0,
          repo: void 0,
          branch: void 0,
          isShallow: false,
          remote: void 0,
          reason: `${resolve(dir)} is not inside a git repository (no .git found in it or any parent); run \`git init\` or pass a directory inside a clone`
        },
        isTreeClean: false,
        firstChange: void 0
      });
    }
    const inspection = await inspect(layout);
    let isTreeClean = options.checkTree === false ? void 0 : false;
    let firstChange;
    if (inspection.repo && options.checkTree !== false) {
      firstChange = await findFirstChange(inspection.repo, {
        signal: options.signal,
        concurrency: options.concurrency,
        counters: internals?.counters,
        lstat: internals?.lstat
      });
      isTreeClean = firstChange === void 0;
    }
    return new _GitStatus({ inspection, isTreeClean, firstChange });
  }
  /**
   * Whether `file` is identical to its version in the commit (`git diff HEAD -- file` would be
   * empty). False for files not in the commit, outside the repository or deleted.
   *
   * @param file - Absolute, or relative to {@link GitStatus.repoDir}.
   */
  async isFileClean(file) {
    const located = await this.#locate(file);
    if (!("path" in located) || !this.#repo) return false;
    return await fileStateAgainstHead(this.#repo, located.path) === "clean";
  }
  /**
   * A permanent link to `file` at {@link GitStatus.commitSha}, anchored at `line` (and up to
   * `options.endLine`) in the provider's own format. Never throws: when no link can be made, `url`
   * is undefined and `reason` says why. When the file differs from the commit, the link has no
   * line anchor (the line may not exist there) and `reason` says so.
   *
   * @param file - Absolute, or relative to {@link GitStatus.repoDir}.
   * @param line - 1-based line; omit for a link to the whole file.
   * @param options - `endLine` for a range.
   */
  async buildUrl(file, line, options = {}) {
    try {
      return await this.#buildUrl(file, line, options);
    } catch (error) {
      return noLink(`the link could not be built: ${error.message}`);
    }
  }
  async #buildUrl(file, line, options) {
    if (!this.#repo || !this.repoDir || !this.commitSha) return noLink(this.reason ?? "no commit");
    if (!this.remoteUrl) return noLink(this.reason ?? "no remote");
    const located = await this.#locate(file);
    if (!("path" in located)) return noLink(located.reason);
    const found = findGitUrlBuilder(this.remoteUrl);
    if (!found.builder) return noLink(found.reason);
    if (await this.#isPushed() === false) {
      return noLink(
        `commit ${this.commitSha} is not on any branch of remote "${this.remoteName}" yet, so the link would not resolve; push it first (\`git push\`)`
      );
    }
    const state = await fileStateAgainstHead(this.#repo, located.path);
    if (state === "not-committed" || state === "deleted") {
      return noLink(
        state === "deleted" ? `${located.path} is in commit ${this.commitSha} but deleted from the worktree` : `${located.path} is not in commit ${this.commitSha}; commit it to link to it`
      );
    }
    const target = { remoteUrl: this.remoteUrl, commitSha: this.commitSha, path: located.path };
    if (line === void 0)
      return { url: found.builder(target), reason: void 0, lineAnchored: false };
    if (!Number.isInteger(line) || line < 1) {
      return {
        url: found.builder(target),
        reason: `line ${line} is not a positive integer, so the link points at the whole file`,
        lineAnchored: false
      };
    }
    if (state === "modified") {
      return {
        url: found.builder(target),
        reason: `${located.path} differs from commit ${this.commitSha.slice(0, 12)}, so line ${line} may not be the same line there; the link points at the whole file`,
        lineAnchored: false
      };
    }
    const endLine = options.endLine;
    const ranged = endLine !== void 0 && Number.isInteger(endLine) && endLine > line;
    return {
      url: found.builder({ ...target, line, ...ranged ? { endLine } : {} }),
      reason: void 0,
      lineAnchored: true
    };
  }
  /** The repository-relative path of `file`, or why it has none in this repository. */
  async #locate(file) {
    const repoDir = this.repoDir;
    const absolute = isAbsolute(file) ? file : resolve(repoDir, file);
    let real;
    try {
      real = await realpath(absolute);
    } catch {
      real = resolve(
        await realpath(dirname(absolute)).catch(() => dirname(absolute)),
        basename(absolute)
      );
    }
    const path = relative(repoDir, real);
    if (path === "" || path.startsWith(`..${sep}`) || path === ".." || isAbsolute(path)) {
      return { reason: `${file} is outside the repository ${repoDir}` };
    }
    const owner = await discoverRepository(real);
    if (owner && owner.worktree !== repoDir) {
      return {
        reason: `${file} belongs to the repository at ${owner.worktree} (a submodule or nested repository), not to ${repoDir}; use linkForDefinition or GitStatus.fromRepo("${owner.worktree}")`
      };
    }
    return { path: path.split(sep).join("/") };
  }
  /** Whether HEAD is reachable from a remote-tracking branch; undefined when that is unknowable. */
  #isPushed() {
    this.#pushed ??= (async () => {
      const repo = this.#repo;
      const tips = await remoteTrackingOids(repo.layout, this.remoteName);
      if (tips.length === 0) return void 0;
      if (tips.includes(repo.commitSha)) return true;
      let unknown = false;
      const { isDescendent } = await loadIsomorphicGit();
      for (const tip of tips) {
        try {
          const found = await isDescendent({
            fs: fs,
            gitdir: repo.layout.commondir,
            oid: tip,
            ancestor: repo.commitSha,
            // Bounded walk: beyond this many commits, give the link rather than spend seconds.
            depth: 2e3,
            cache: objectCache
          });
          if (found) return true;
        } catch {
          unknown = true;
        }
      }
      return unknown ? void 0 : false;
    })();
    return this.#pushed;
  }
};
function noLink(reason) {
  return { url: void 0, reason, lineAnchored: false };
}

// src/definition-link.ts
async function linkForDefinition(definedAt, options = {}) {
  if (!definedAt) {
    return noLink("the task has no definition site");
  }
  try {
    const site = mapToOriginalSource(definedAt);
    const status = await GitStatus.fromRepo(dirname(site.file), {
      checkTree: false,
      ...options.signal ? { signal: options.signal } : {}
    });
    return await status.buildUrl(site.file, site.line);
  } catch (error) {
    return noLink(`no link for ${definedAt.file}:${definedAt.line}: ${error.message}`);
  }
}
var traceMaps = /* @__PURE__ */ new Map();
function mapToOriginalSource(location) {
  const file = location.file.startsWith("file:") ? fileURLToPath(location.file) : location.file;
  const site = { file, line: location.line, column: location.column };
  const map = traceMapOf(file);
  if (!map) return site;
  const original = originalPositionFor(map, {
    line: site.line,
    column: Math.max(0, site.column - 1)
  });
  if (original.source === null || original.line === null) return site;
  const source = original.source.startsWith("file:") ? fileURLToPath(original.source) : isAbsolute(original.source) ? original.source : resolve(dirname(file), original.source);
  return { file: source, line: original.line, column: (original.column ?? 0) + 1 };
}
function traceMapOf(file) {
  const cached = traceMaps.get(file);
  if (cached !== void 0) return cached;
  let map = null;
  try {
    const loaded = findSourceMap(file);
    map = loaded ? new TraceMap(loaded.payload, file) : readSourceMap(file);
  } catch {
    map = null;
  }
  traceMaps.set(file, map);
  return map;
}
var SOURCE_MAPPING_URL = /\/\/[#@] sourceMappingURL=(\S+)\s*$/;
function readSourceMap(file) {
  if (!/\.[cm]?js$/.test(file)) return null;
  const text = readFileSync(file, "utf8");
  const url = SOURCE_MAPPING_URL.exec(text.slice(-4096))?.[1];
  if (!url) return null;
  if (url.startsWith("data:")) {
    const comma = url.indexOf(",");
    const payload = url.slice(comma + 1);
    const json = url.slice(0, comma).endsWith(";base64") ? Buffer.from(payload, "base64").toString("utf8") : decodeURIComponent(payload);
    return new TraceMap(json, file);
  }
  const mapFile = resolve(dirname(file), decodeURIComponent(url));
  return new TraceMap(readFileSync(mapFile, "utf8"), mapFile);
}

export { GitError, GitStatus, gitUrlBuilderKinds, gitUrlBuilders, linkForDefinition, mapToOriginalSource, normalizeRemoteUrl, registerGitUrlBuilder };
//# sourceMappingURL=index.js.map
//# sourceMappingURL=index.js.map
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { compareKeys, normalizePrefix, validateKey } from '../../compute/run/keys.js';
import { NotFoundError, permanentFsError, StorageError } from './errors.js';
import type { ObjectStore, PutOptions } from './types.js';

/** Temporary files of in-flight puts start with this; list() never returns them. */
const TEMP_PREFIX = '.pure-tmp-';

function errCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/**
 * Objects as files under a root folder; key 'a/b/c' is the file <root>/a/b/c. Puts are atomic (a temporary file
 * in the same folder, then rename), so readers never see half-written objects and a crashed writer leaves at
 * most a '.pure-tmp-*' file behind. URI: 'file://' + the absolute root path, not percent-encoded.
 */
export class LocalStore implements ObjectStore {
  readonly uri: string;
  readonly root: string;

  /** `root` must be an absolute path. */
  constructor(root: string) {
    this.root = root.length > 1 && root.endsWith(sep) ? root.slice(0, -1) : root;
    this.uri = `file://${this.root}`;
  }

  localPath(key: string): string {
    return join(this.root, ...validateKey(key).split('/'));
  }

  private keyUri(key: string): string {
    return `${this.uri.endsWith('/') ? this.uri : `${this.uri}/`}${key}`;
  }

  async put(key: string, body: Uint8Array, _opts?: PutOptions): Promise<void> {
    const path = this.localPath(key);
    const dir = dirname(path);
    const tmp = join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${basename(path)}`);
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(tmp, body);
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new StorageError(`put ${this.keyUri(key)} failed: ${(e as Error).message}`, this.keyUri(key), {
        cause: e,
        permanent: permanentFsError(e),
      });
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const path = this.localPath(key);
    try {
      const buf = await readFile(path);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      throw this.readError(e, key, 'get');
    }
  }

  async getRange(key: string, start: number, endExclusive: number): Promise<Uint8Array> {
    checkRange(start, endExclusive);
    const path = this.localPath(key);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      throw this.readError(e, key, 'getRange');
    }
    try {
      const { size } = await handle.stat();
      const end = Math.min(endExclusive, size);
      if (start >= end) return new Uint8Array(0);
      const out = new Uint8Array(end - start);
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === out.length ? out : out.subarray(0, done);
    } catch (e) {
      throw this.readError(e, key, 'getRange');
    } finally {
      await handle.close();
    }
  }

  private readError(e: unknown, key: string, op: string): Error {
    const code = errCode(e);
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') {
      return new NotFoundError(this.keyUri(key), { cause: e });
    }
    return new StorageError(`${op} ${this.keyUri(key)} failed: ${(e as Error).message}`, this.keyUri(key), {
      cause: e,
    });
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    try {
      const s = await stat(this.localPath(key));
      return s.isFile() ? { size: s.size } : undefined;
    } catch (e) {
      const code = errCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new StorageError(`stat ${this.keyUri(key)} failed: ${(e as Error).message}`, this.keyUri(key), {
        cause: e,
      });
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  async list(prefix: string): Promise<string[]> {
    const p = normalizePrefix(prefix);
    const keys: string[] = [];
    await this.walk(p === '' ? this.root : join(this.root, ...p.split('/')), p, keys, new Set());
    return keys.sort(compareKeys);
  }

  /** Recursive; follows symbolic links (a dataset folder may be a link); `ancestors` guards against cycles. */
  private async walk(
    dir: string,
    keyPrefix: string,
    out: string[],
    ancestors: ReadonlySet<string>,
  ): Promise<void> {
    let entries: Dirent[];
    let inside: ReadonlySet<string>;
    try {
      const s = await stat(dir);
      if (!s.isDirectory()) return;
      const id = `${s.dev}:${s.ino}`;
      if (ancestors.has(id)) return;
      inside = new Set(ancestors).add(id);
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      const code = errCode(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      const uri = this.keyUri(keyPrefix);
      throw new StorageError(`list ${uri} failed: ${(e as Error).message}`, uri, { cause: e });
    }
    for (const entry of entries) {
      if (entry.name.startsWith(TEMP_PREFIX)) continue;
      const key = keyPrefix === '' ? entry.name : `${keyPrefix}/${entry.name}`;
      const path = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        isDir = target?.isDirectory() ?? false;
        isFile = target?.isFile() ?? false;
      }
      if (isDir) await this.walk(path, key, out, inside);
      else if (isFile) out.push(key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.localPath(key));
    } catch (e) {
      if (errCode(e) === 'ENOENT') return;
      throw new StorageError(`delete ${this.keyUri(key)} failed: ${(e as Error).message}`, this.keyUri(key), {
        cause: e,
      });
    }
  }
}

export function checkRange(start: number, endExclusive: number): void {
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(endExclusive) ||
    start < 0 ||
    endExclusive < start
  ) {
    throw new RangeError(
      `invalid byte range [${start}, ${endExclusive}): need integers 0 <= start <= endExclusive`,
    );
  }
}

/** Creates the root folder (the local counterpart of creating a bucket). */
export async function ensureLocalRoot(root: string): Promise<void> {
  await mkdir(root, { recursive: true });
}

import { openStore } from './index.js';

/** Reads one object named by a full URI (local path, file:// or s3://bucket/key). */
export async function readUri(uri: string): Promise<Uint8Array> {
  const slash = uri.replace(/\/+$/, '').lastIndexOf('/');
  if (slash < 0) return openStore('.').get(uri);
  const parent = uri.slice(0, slash) || '/';
  return openStore(parent).get(uri.slice(slash + 1));
}

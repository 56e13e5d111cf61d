import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { ensureBucket, type S3Options } from '../../core/adapters/storage/index.js';

/**
 * The real services the integration tests use. They are started by infra/ (`bash infra/temporal.sh start`,
 * `bash infra/minio.sh start`); these helpers never start anything and never skip: a missing service is a
 * failing test with a message that says how to start it.
 */

/** Resolves when something accepts TCP connections at host:port within `timeoutMs`; rejects otherwise. */
export function tcpReachable(host: string, port: number, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      resolve();
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    });
  });
}

function hostPort(address: string, defaultPort: number): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  const port = url.port
    ? Number(url.port)
    : url.protocol === 'https:'
      ? 443
      : url.protocol === 'http:'
        ? 80
        : defaultPort;
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
}

/** TEMPORAL_ADDRESS or 127.0.0.1:7233, after checking that a server listens there. */
export async function temporalAddress(): Promise<string> {
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const { host, port } = hostPort(address, 7233);
  try {
    await tcpReachable(host, port);
  } catch (e) {
    throw new Error(
      `Temporal is not reachable at ${address} (${(e as Error).message}). Start the local dev server with ` +
        '`bash infra/temporal.sh start`, or point TEMPORAL_ADDRESS at a running Temporal frontend.',
      { cause: e },
    );
  }
  return address;
}

export interface S3TestEnv {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Ready for openStore / ensureBucket. */
  options: S3Options;
  bucket: string;
  /** A fresh prefix for this call, e.g. 'test-20260101T120000-1a2b3c4d'. */
  prefix: string;
  /** s3://bucket/prefix: an empty store of its own. */
  uri: string;
}

const HOW_TO_START =
  'Start the local S3 server and load its settings: `bash infra/minio.sh start && eval "$(bash infra/env.sh)"` ' +
  '(or set PURE_S3_ENDPOINT, PURE_S3_ACCESS_KEY and PURE_S3_SECRET_KEY for another S3-compatible server).';

/**
 * The S3 server the tests use, from PURE_S3_ENDPOINT (or AWS_ENDPOINT_URL), PURE_S3_ACCESS_KEY /
 * PURE_S3_SECRET_KEY (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), PURE_S3_REGION / AWS_REGION, and the bucket
 * PURE_S3_TEST_BUCKET (default 'pure-test', created if missing). Each call returns a fresh prefix URI.
 */
export async function s3TestEnv(): Promise<S3TestEnv> {
  const env = process.env;
  const endpoint = env.PURE_S3_ENDPOINT || env.AWS_ENDPOINT_URL;
  const accessKeyId = env.PURE_S3_ACCESS_KEY || env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.PURE_S3_SECRET_KEY || env.AWS_SECRET_ACCESS_KEY;
  const missing = [
    endpoint ? undefined : 'PURE_S3_ENDPOINT',
    accessKeyId ? undefined : 'PURE_S3_ACCESS_KEY',
    secretAccessKey ? undefined : 'PURE_S3_SECRET_KEY',
  ].filter((v) => v !== undefined);
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    throw new Error(
      `S3 is not configured for the integration tests: ${missing.join(', ')} not set. ${HOW_TO_START}`,
    );
  }
  const { host, port } = hostPort(endpoint, 9000);
  try {
    await tcpReachable(host, port);
  } catch (e) {
    throw new Error(`S3 is not reachable at ${endpoint} (${(e as Error).message}). ${HOW_TO_START}`, {
      cause: e,
    });
  }
  const region = env.PURE_S3_REGION || env.AWS_REGION || 'us-east-1';
  const bucket = env.PURE_S3_TEST_BUCKET || 'pure-test';
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const prefix = `test-${stamp}-${randomBytes(4).toString('hex')}`;
  const options: S3Options = { endpoint, region, accessKeyId, secretAccessKey, forcePathStyle: true };
  await ensureBucket(`s3://${bucket}`, options);
  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    options,
    bucket,
    prefix,
    uri: `s3://${bucket}/${prefix}`,
  };
}

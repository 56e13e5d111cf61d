import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';

/** What both `Connection.connect` (client) and `NativeConnection.connect` (worker) accept. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

/**
 * Connection settings for a Temporal frontend, from the environment variables the Temporal CLI uses:
 * TEMPORAL_API_KEY (Temporal Cloud API keys; implies TLS), TEMPORAL_TLS_CLIENT_CERT_PATH and
 * TEMPORAL_TLS_CLIENT_KEY_PATH (mTLS), TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME, and
 * TEMPORAL_TLS=true for plain server TLS. Without them: a plain connection (local dev server, in-cluster).
 * The same shape serves `Connection.connect` (client) and `NativeConnection.connect` (worker).
 */
export function temporalConnectionOptions(
  address: string,
  env: NodeJS.ProcessEnv = process.env,
): TemporalConnectionOptions {
  const cert = env.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const key = env.TEMPORAL_TLS_CLIENT_KEY_PATH;
  if (Boolean(cert) !== Boolean(key)) {
    throw new Error('mTLS needs both TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH');
  }
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`cannot read the ${what} at ${path} (${(error as Error).message})`);
    }
  };
  const serverCa = env.TEMPORAL_TLS_SERVER_CA_CERT_PATH;
  const wantsTls = Boolean(
    env.TEMPORAL_API_KEY || cert || serverCa || /^(1|true)$/i.test(env.TEMPORAL_TLS ?? ''),
  );
  const tls: TLSConfig | undefined = wantsTls
    ? {
        ...(cert && key
          ? {
              clientCertPair: { crt: read(cert, 'TLS client certificate'), key: read(key, 'TLS client key') },
            }
          : {}),
        ...(serverCa ? { serverRootCACertificate: read(serverCa, 'TLS server CA certificate') } : {}),
        ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME } : {}),
      }
    : undefined;
  return {
    address,
    ...(tls ? { tls } : {}),
    ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}),
  };
}

/** The Temporal frontend: `--temporal`, else TEMPORAL_ADDRESS (as the Temporal CLI reads it), else undefined. */
export function temporalAddress(flag?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag ?? (env.TEMPORAL_ADDRESS || undefined);
}

/** The namespace when no `--namespace` is given: TEMPORAL_NAMESPACE, else 'default'. */
export function defaultNamespace(env: NodeJS.ProcessEnv = process.env): string {
  return env.TEMPORAL_NAMESPACE || 'default';
}

/** Where a plain `pure worker` connects: the address a local dev server listens on. */
export const LOCAL_TEMPORAL_ADDRESS = '127.0.0.1:7233';

/**
 * Connects with `connect` (a client's or a worker's), turning "cannot reach the server" (a raw gRPC or
 * `tonic::transport::Error` from the SDK) into a message that says what to do.
 */
export async function connectTemporal<T>(
  address: string,
  connect: (options: TemporalConnectionOptions) => Promise<T>,
  options: TemporalConnectionOptions = temporalConnectionOptions(address),
): Promise<T> {
  try {
    return await connect(options);
  } catch (error) {
    const message = (error as Error).message;
    // The Rust SDK's transport errors bury the reason ("Connection refused") in a Debug dump.
    const reason = /message: "([^"]+)"/.exec(message)?.[1] ?? message.split('\n')[0];
    throw new Error(
      `cannot reach Temporal at ${address} (${reason}); start a server ` +
        '(locally: bash infra/temporal.sh start) or point --temporal / TEMPORAL_ADDRESS at a running one',
    );
  }
}

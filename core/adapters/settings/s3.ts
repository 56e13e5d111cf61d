/**
 * Where S3 is and who we are there, from options and the environment: the one resolver that both the
 * object store (writing a run) and DuckDB (`pure query`, `pure report` reading it) use, so the reader
 * always talks to the endpoint, with the keys, that the writer used.
 *
 * Order of precedence, first found wins:
 * - endpoint: option, PURE_S3_ENDPOINT, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL (else AWS itself);
 * - region: option, PURE_S3_REGION, AWS_REGION, AWS_DEFAULT_REGION, else 'us-east-1';
 * - keys: options, PURE_S3_ACCESS_KEY + PURE_S3_SECRET_KEY, AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 *   (+ AWS_SESSION_TOKEN), else none here (the AWS SDK's default chain: profiles, instance roles).
 */

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Settings {
  endpoint: string | undefined;
  region: string;
  credentials: S3Credentials | undefined;
}

export interface S3SettingsOverrides {
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

function firstSet(...values: (string | undefined)[]): string | undefined {
  return values.find((v) => v !== undefined && v !== '');
}

export function resolveS3Settings(
  overrides: S3SettingsOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): S3Settings {
  return {
    endpoint: firstSet(
      overrides.endpoint,
      env.PURE_S3_ENDPOINT,
      env.AWS_ENDPOINT_URL_S3,
      env.AWS_ENDPOINT_URL,
    ),
    region:
      firstSet(overrides.region, env.PURE_S3_REGION, env.AWS_REGION, env.AWS_DEFAULT_REGION) ?? 'us-east-1',
    credentials: resolveCredentials(overrides, env),
  };
}

function resolveCredentials(
  overrides: S3SettingsOverrides,
  env: NodeJS.ProcessEnv,
): S3Credentials | undefined {
  if (overrides.accessKeyId !== undefined || overrides.secretAccessKey !== undefined) {
    if (!overrides.accessKeyId || !overrides.secretAccessKey) {
      throw new TypeError('S3 options: give both accessKeyId and secretAccessKey, or neither');
    }
    return {
      accessKeyId: overrides.accessKeyId,
      secretAccessKey: overrides.secretAccessKey,
      ...(overrides.sessionToken ? { sessionToken: overrides.sessionToken } : {}),
    };
  }
  if (env.PURE_S3_ACCESS_KEY && env.PURE_S3_SECRET_KEY) {
    return { accessKeyId: env.PURE_S3_ACCESS_KEY, secretAccessKey: env.PURE_S3_SECRET_KEY };
  }
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  return undefined;
}

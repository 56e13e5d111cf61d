import {
  AbortMultipartUploadCommand,
  type BucketLocationConstraint,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { compareKeys, normalizePrefix, validateKey } from '../../compute/run/keys.js';
import { resolveS3Settings } from '../settings/s3.js';
import { InvalidKeyError, NotFoundError, StorageError } from './errors.js';
import { checkRange } from './local.js';
import type { ObjectStore, PutOptions, S3Options } from './types.js';

const MiB = 1024 * 1024;
export const DEFAULT_MULTIPART_THRESHOLD = 16 * MiB;
export const DEFAULT_PART_SIZE = 8 * MiB;
/** S3's smallest part (all but the last). */
export const MIN_PART_SIZE = 5 * MiB;
const PART_CONCURRENCY = 4;

/** Options with the environment's defaults filled in (see S3Options for the order). */
export interface ResolvedS3Options {
  endpoint: string | undefined;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  forcePathStyle: boolean;
  multipartThreshold: number;
  partSize: number;
}

export function resolveS3Options(
  opts: S3Options = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedS3Options {
  const { endpoint, region, credentials } = resolveS3Settings(opts, env);
  const multipartThreshold = opts.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
  const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE) {
    throw new RangeError(
      `S3 options: partSize must be an integer >= ${MIN_PART_SIZE} (5 MiB, S3's minimum), got ${partSize}`,
    );
  }
  if (!Number.isSafeInteger(multipartThreshold) || multipartThreshold < 0) {
    throw new RangeError(
      `S3 options: multipartThreshold must be a non-negative integer, got ${multipartThreshold}`,
    );
  }
  return {
    endpoint,
    region,
    credentials,
    forcePathStyle: opts.forcePathStyle ?? endpoint !== undefined,
    multipartThreshold,
    partSize,
  };
}

const clients = new Map<string, S3Client>();

/** One client per distinct configuration, shared by every store opened with it (keeps connection pools warm). */
export function s3Client(o: ResolvedS3Options): S3Client {
  const id = JSON.stringify([o.endpoint, o.region, o.credentials, o.forcePathStyle]);
  let client = clients.get(id);
  if (!client) {
    const config: S3ClientConfig = {
      region: o.region,
      forcePathStyle: o.forcePathStyle,
      // Fail instead of hanging on an unreachable endpoint or a stalled connection (the SDK retries).
      // A silent endpoint (accepts connections, never answers) must fail the call, not hang the activity:
      // ~30 s without a byte aborts a request (socketTimeout; PURE_S3_SOCKET_TIMEOUT_MS; the SDK arms it
      // 3 s into the request, so 33 s in practice, 66 s over its two attempts), and no request lasts over 15 minutes
      // (requestTimeout, which only warns unless throwOnRequestTimeout is set). The SDK retries once more;
      // longer outages are the activity retry policy's (docs/reliability.md).
      requestHandler: {
        connectionTimeout: 10_000,
        socketTimeout: Number(process.env.PURE_S3_SOCKET_TIMEOUT_MS) || 30_000,
        requestTimeout: 15 * 60_000,
        throwOnRequestTimeout: true,
      },
      maxAttempts: 2,
    };
    if (o.endpoint) {
      config.endpoint = o.endpoint;
      // S3-compatible servers differ in their support of the SDK's default CRC checksums (x-amz-checksum-*,
      // aws-chunked bodies); send and check them only where the operation requires it.
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    if (o.credentials) config.credentials = o.credentials;
    client = new S3Client(config);
    clients.set(id, client);
  }
  return client;
}

/** Parses 's3://bucket[/prefix]' into bucket and prefix ('' or without leading/trailing '/'). */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri);
  if (!m?.[1])
    throw new InvalidKeyError(`not an S3 URI (expected s3://bucket[/prefix]): ${JSON.stringify(uri)}`);
  const bucket = m[1];
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new InvalidKeyError(
      `invalid S3 bucket name ${JSON.stringify(bucket)} in ${uri} (3-63 characters: lower-case letters, digits, '.', '-')`,
    );
  }
  const prefix = normalizePrefix(m[2] ?? '');
  return { bucket, prefix };
}

interface AwsErrorShape {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

function awsError(e: unknown): AwsErrorShape {
  return typeof e === 'object' && e !== null ? (e as AwsErrorShape) : {};
}

const PERMANENT_S3_HINTS = {
  S3AccessDenied:
    'these credentials may not do this: check AWS_ACCESS_KEY_ID / PURE_S3_ACCESS_KEY and the bucket policy',
  S3NoSuchBucket: 'the bucket does not exist: create it or fix the s3:// URI',
} as const;

/**
 * Failures no retry fixes: denied or invalid credentials and a missing bucket. Throttling (503 SlowDown),
 * 5xx and connection errors are transient and left to the retry policy.
 */
function permanentS3Failure(
  name: string | undefined,
  status: number | undefined,
): keyof typeof PERMANENT_S3_HINTS | undefined {
  if (name === 'NoSuchBucket') return 'S3NoSuchBucket';
  const denied = [
    'AccessDenied',
    'InvalidAccessKeyId',
    'SignatureDoesNotMatch',
    'InvalidToken',
    'ExpiredToken',
  ];
  if (status === 401 || status === 403 || (name !== undefined && denied.includes(name)))
    return 'S3AccessDenied';
  return undefined;
}

function isMissing(e: unknown): boolean {
  const err = awsError(e);
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404;
}

/** Objects in a bucket under a prefix; key k is the S3 object `<prefix>/k`. */
export class S3Store implements ObjectStore {
  readonly uri: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly options: ResolvedS3Options;
  private readonly client: S3Client;

  constructor(uri: string, opts?: S3Options) {
    const { bucket, prefix } = parseS3Uri(uri);
    this.bucket = bucket;
    this.prefix = prefix;
    this.uri = prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`;
    this.options = resolveS3Options(opts);
    this.client = s3Client(this.options);
  }

  private objectKey(key: string): string {
    validateKey(key);
    return this.prefix === '' ? key : `${this.prefix}/${key}`;
  }

  private keyUri(key: string): string {
    return `${this.uri}/${key}`;
  }

  private fail(op: string, key: string, e: unknown): StorageError {
    const where = this.options.endpoint ? ` at ${this.options.endpoint}` : '';
    const err = awsError(e);
    const status = err.$metadata?.httpStatusCode;
    const detail = e instanceof Error ? `${err.name ?? e.name}: ${e.message}` : String(e);
    const permanent = permanentS3Failure(err.name, status);
    const timedOut = err.name === 'TimeoutError';
    const hint = timedOut
      ? ' (the endpoint accepted the connection but did not answer in time)'
      : status === undefined && this.options.endpoint
        ? ' (is the S3 server running? locally: bash infra/minio.sh start)'
        : permanent
          ? `; ${PERMANENT_S3_HINTS[permanent]}`
          : '';
    return new StorageError(
      `S3 ${op} ${this.keyUri(key)}${where} failed${status ? ` (HTTP ${status})` : ''}: ${detail}${hint}`,
      this.keyUri(key),
      { cause: e, ...(status ? { status } : {}), ...(permanent ? { permanent } : {}) },
    );
  }

  async put(key: string, body: Uint8Array, opts?: PutOptions): Promise<void> {
    const Key = this.objectKey(key);
    if (body.byteLength > this.options.multipartThreshold) {
      await this.putMultipart(key, Key, body, opts);
      return;
    }
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key,
          Body: body,
          ContentLength: body.byteLength,
          ContentType: opts?.contentType,
        }),
      );
    } catch (e) {
      throw this.fail('PutObject', key, e);
    }
  }

  /** Parts go up PART_CONCURRENCY at a time; the object appears only when CompleteMultipartUpload succeeds. */
  private async putMultipart(key: string, Key: string, body: Uint8Array, opts?: PutOptions): Promise<void> {
    let uploadId: string | undefined;
    try {
      const created = await this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, ContentType: opts?.contentType }),
      );
      uploadId = created.UploadId;
      if (!uploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      const partSize = this.options.partSize;
      const count = Math.max(1, Math.ceil(body.byteLength / partSize));
      const etags: string[] = new Array(count);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < count) {
          const i = next++;
          const chunk = body.subarray(i * partSize, Math.min(body.byteLength, (i + 1) * partSize));
          const res = await this.client.send(
            new UploadPartCommand({
              Bucket: this.bucket,
              Key,
              UploadId: uploadId,
              PartNumber: i + 1,
              Body: chunk,
              ContentLength: chunk.byteLength,
            }),
          );
          if (!res.ETag) throw new Error(`UploadPart ${i + 1} returned no ETag`);
          etags[i] = res.ETag;
        }
      };
      await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, count) }, worker));
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key,
          UploadId: uploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
    } catch (e) {
      if (uploadId) {
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId }))
          .catch(() => undefined);
      }
      throw this.fail('multipart upload', key, e);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const Key = this.objectKey(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      if (!res.Body) throw new Error('GetObject returned no body');
      return await res.Body.transformToByteArray();
    } catch (e) {
      if (isMissing(e)) throw new NotFoundError(this.keyUri(key), { cause: e });
      throw this.fail('GetObject', key, e);
    }
  }

  async getRange(key: string, start: number, endExclusive: number): Promise<Uint8Array> {
    checkRange(start, endExclusive);
    const Key = this.objectKey(key);
    if (start === endExclusive) {
      if (!(await this.exists(key))) throw new NotFoundError(this.keyUri(key));
      return new Uint8Array(0);
    }
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, Range: `bytes=${start}-${endExclusive - 1}` }),
      );
      if (!res.Body) throw new Error('GetObject returned no body');
      return await res.Body.transformToByteArray();
    } catch (e) {
      if (isMissing(e)) throw new NotFoundError(this.keyUri(key), { cause: e });
      // 416: the range starts at or after the end of the object.
      if (awsError(e).$metadata?.httpStatusCode === 416 || awsError(e).name === 'InvalidRange') {
        return new Uint8Array(0);
      }
      throw this.fail('GetObject (range)', key, e);
    }
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    const Key = this.objectKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { size: res.ContentLength ?? 0 };
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw this.fail('HeadObject', key, e);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  async list(prefix: string): Promise<string[]> {
    const p = normalizePrefix(prefix);
    const full = [this.prefix, p].filter((s) => s !== '').join('/');
    const Prefix = full === '' ? undefined : `${full}/`;
    const strip = this.prefix === '' ? 0 : this.prefix.length + 1;
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    try {
      do {
        const res = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken, MaxKeys: 1000 }),
        );
        for (const o of res.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key.slice(strip));
        ContinuationToken = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (ContinuationToken);
    } catch (e) {
      throw this.fail('ListObjectsV2', p, e);
    }
    return keys.sort(compareKeys);
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (e) {
      if (isMissing(e)) return;
      throw this.fail('DeleteObject', key, e);
    }
  }

  /** Creates the bucket unless it exists and is ours. */
  async ensureBucket(): Promise<void> {
    const Bucket = this.bucket;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket }));
      return;
    } catch (e) {
      const status = awsError(e).$metadata?.httpStatusCode;
      if (status === 403) {
        throw new StorageError(`S3 bucket ${Bucket} exists but these credentials may not use it`, this.uri, {
          cause: e,
        });
      }
      if (status !== 404 && !isMissing(e)) throw this.fail('HeadBucket', '', e);
    }
    try {
      await this.client.send(
        new CreateBucketCommand({
          Bucket,
          ...(this.options.region === 'us-east-1'
            ? {}
            : {
                CreateBucketConfiguration: {
                  LocationConstraint: this.options.region as BucketLocationConstraint,
                },
              }),
        }),
      );
    } catch (e) {
      const name = awsError(e).name;
      // Created meanwhile by a concurrent caller: fine when it is ours.
      if (name === 'BucketAlreadyOwnedByYou') return;
      if (name === 'BucketAlreadyExists') {
        try {
          await this.client.send(new HeadBucketCommand({ Bucket }));
          return;
        } catch {
          // fall through: someone else's bucket
        }
      }
      throw new StorageError(
        `S3 CreateBucket ${Bucket}${this.options.endpoint ? ` at ${this.options.endpoint}` : ''} failed: ${(e as Error).message}`,
        this.uri,
        { cause: e },
      );
    }
  }
}

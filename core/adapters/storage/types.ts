export interface PutOptions {
  /** MIME type stored with the object (S3 Content-Type); ignored by the local back end. */
  contentType?: string;
}

/**
 * A flat namespace of immutable-ish objects under a root. Keys are relative '/'-separated paths (see keys.ts);
 * '..', '.', empty segments and absolute keys are rejected with InvalidKeyError.
 */
export interface ObjectStore {
  /** The root, e.g. 'file:///abs/out' or 's3://bucket/prefix' (no trailing '/'; the URI of key k is `${uri}/${k}`). */
  readonly uri: string;
  /**
   * Writes the whole object atomically: readers see the old object or the new one, never a part. Local: a
   * temporary file in the same folder, then rename. S3: one PUT, or a multipart upload that only becomes
   * visible when it is completed at the end.
   */
  put(key: string, body: Uint8Array, opts?: PutOptions): Promise<void>;
  /** The whole object; NotFoundError (with the full URI) when it does not exist. */
  get(key: string): Promise<Uint8Array>;
  /** Bytes [start, endExclusive), clamped to the object's size (empty when start >= size); NotFoundError if missing. */
  getRange(key: string, start: number, endExclusive: number): Promise<Uint8Array>;
  exists(key: string): Promise<boolean>;
  /** Size of the object, undefined when it does not exist. */
  stat(key: string): Promise<{ size: number } | undefined>;
  /**
   * All keys under the folder-like `prefix` ('' for everything; 'a/b' lists 'a/b/...', not 'a/bc'), recursive,
   * relative to the store's root (not to the prefix), sorted by UTF-8 bytes.
   */
  list(prefix: string): Promise<string[]>;
  /** Removes the object; a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** The file that holds `key` (local back end only). */
  localPath?(key: string): string;
}

export interface S3Options {
  /** e.g. 'http://127.0.0.1:9000'; default PURE_S3_ENDPOINT, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS. */
  endpoint?: string;
  /** Default PURE_S3_REGION, AWS_REGION, AWS_DEFAULT_REGION, else 'us-east-1'. */
  region?: string;
  /**
   * Default PURE_S3_ACCESS_KEY / PURE_S3_SECRET_KEY, else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (with
   * AWS_SESSION_TOKEN), else the AWS SDK's default chain (profiles, instance or pod roles).
   */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Path-style URLs (http://host/bucket/key), as MinIO needs. Default: true when an endpoint is set. */
  forcePathStyle?: boolean;
  /** Bodies larger than this go up as a multipart upload. Default 16 MiB. */
  multipartThreshold?: number;
  /** Size of each multipart part (S3's minimum is 5 MiB except for the last). Default 8 MiB. */
  partSize?: number;
}

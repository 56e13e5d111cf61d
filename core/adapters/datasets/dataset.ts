import type { SampleRow } from '../../compute/tables/schemas.js';
import { noteProgress } from '../progress.js';
import { type ObjectStore, openStore } from '../storage/index.js';

/** File types sharp decodes; anything else in a dataset folder (READMEs, labels files) is ignored. */
const IMAGE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.bmp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
]);

function isImageKey(key: string): boolean {
  const dot = key.lastIndexOf('.');
  return dot > key.lastIndexOf('/') && IMAGE_EXTENSIONS.has(key.slice(dot).toLowerCase());
}

/**
 * An image dataset: a folder or S3 prefix of image files, either flat or in class sub-folders
 * (`<class>/<file>`, the torchvision ImageFolder layout). Sample ids are the keys relative to the root,
 * so they are stable across machines and back ends, and samples are ordered by id.
 */
export interface Dataset {
  readonly uri: string;
  listSamples(): Promise<SampleRow[]>;
  readSample(sampleId: string): Promise<Uint8Array>;
}

export function openDataset(uri: string): Dataset {
  const store: ObjectStore = openStore(uri);
  return {
    uri: store.uri,
    async listSamples() {
      const keys = (await store.list('')).filter(isImageKey).sort();
      if (keys.length === 0) {
        throw new Error(
          `no images found under ${store.uri} (looked for ${[...IMAGE_EXTENSIONS].join(' ')}); ` +
            'point --data at a folder or s3:// prefix of images, flat or in class sub-folders',
        );
      }
      return keys.map((key, sampleIndex) => {
        const slash = key.indexOf('/');
        return {
          sampleIndex,
          sampleId: key,
          // A local image's plain absolute path (what every reader and tool opens as it is); an S3 one's URI.
          sampleUri: store.localPath ? store.localPath(key) : `${store.uri.replace(/\/$/, '')}/${key}`,
          label: slash > 0 ? key.slice(0, slash) : null,
        };
      });
    },
    async readSample(sampleId) {
      const bytes = await store.get(sampleId);
      noteProgress(); // images are read in every stage that runs the model
      return bytes;
    },
  };
}

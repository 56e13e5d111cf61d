import type sharp from 'sharp';

/** An enlarged picture in the format its key names (report/paths.ts: PNG for small inputs, else JPEG). */
export async function encodeLarge(
  image: sharp.Sharp,
  key: string,
): Promise<{ data: Buffer; contentType: string }> {
  return key.endsWith('.jpg')
    ? { data: await image.jpeg({ quality: 85 }).toBuffer(), contentType: 'image/jpeg' }
    : { data: await image.png().toBuffer(), contentType: 'image/png' };
}

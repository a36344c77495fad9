// What each upload endpoint accepts, judged from the file's first bytes (file-type), never from the
// client's file name or Content-Type.
export type UploadKind = 'image' | 'video';

export const ACCEPTED_TYPES: Record<UploadKind, ReadonlySet<string>> = {
  image: new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif', 'image/heic', 'image/heif']),
  video: new Set(['video/mp4', 'video/quicktime', 'video/webm', 'video/x-matroska', 'video/x-m4v']),
};

export const UPLOAD_KINDS = Object.keys(ACCEPTED_TYPES) as UploadKind[];

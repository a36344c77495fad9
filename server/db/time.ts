// Timestamps are stored as ISO 8601 strings in UTC (fixed width, so they sort as text on both engines).
export const nowIso = (): string => new Date().toISOString();

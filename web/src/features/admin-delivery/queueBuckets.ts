// Words for the queue-time histogram's buckets (the server's bounds are seconds; null = the open end).
function words(seconds: number): string {
  return seconds >= 3600 ? `${seconds / 3600} h` : seconds >= 60 ? `${seconds / 60} min` : `${seconds} s`;
}

/** "under 1 s", "1 s to 5 s", "1 h or more"; `previous` is the bucket below's bound (null for the first). */
export function bucketLabel(under: number | null, previous: number | null): string {
  if (under === null) return previous === null ? "any" : `${words(previous)} or more`;
  return previous === null ? `under ${words(under)}` : `${words(previous)} to ${words(under)}`;
}

// Display names of the people the app has met (participants lists, /me), for senders and typing lines.
const names = new Map<string, string>();

export function rememberNames(entries: { userId: string; name: string }[]): void {
  for (const e of entries) if (e.name) names.set(e.userId, e.name);
}

export function nameOf(userId: string | null | undefined): string {
  if (!userId) return "System";
  return names.get(userId) ?? userId;
}

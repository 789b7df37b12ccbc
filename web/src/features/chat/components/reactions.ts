// The quick reactions offered on every message, and the look of the button that offers them.
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "🙏"];

export const REACTION_TRIGGER_CLASS =
  "inline-flex h-8 w-8 items-center justify-center rounded-md text-muted hover:bg-surface hover:text-ink";

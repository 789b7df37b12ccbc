// The quick-reaction popover (MessageItem's ReactionButton loads it on first use, already open).
import { useState } from "react";
import { Popover } from "radix-ui";
import { SmilePlus } from "lucide-react";
import { QUICK_REACTIONS, REACTION_TRIGGER_CLASS } from "./reactions";

export function ReactionPopover({ onPick }: { onPick: (emoji: string) => void }) {
  const [open, setOpen] = useState(true);
  return (
    <Popover.Root open={open} onOpenChange={setOpen}>
      <Popover.Trigger aria-label="Add reaction" title="Add reaction" className={REACTION_TRIGGER_CLASS}>
        <SmilePlus className="h-4 w-4" aria-hidden="true" />
      </Popover.Trigger>
      <Popover.Portal>
        <Popover.Content sideOffset={4} className="z-50 flex gap-0.5 rounded-full border border-line bg-panel p-1 shadow-lg" aria-label="Reactions">
          {QUICK_REACTIONS.map((emoji) => (
            <Popover.Close
              key={emoji}
              aria-label={`React with ${emoji}`}
              onClick={() => onPick(emoji)}
              className="inline-flex h-9 w-9 items-center justify-center rounded-full text-lg hover:bg-surface"
            >
              {emoji}
            </Popover.Close>
          ))}
        </Popover.Content>
      </Popover.Portal>
    </Popover.Root>
  );
}

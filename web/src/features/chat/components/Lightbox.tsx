// Full-size view of an image attachment, with its name and a download link.
import { Dialog } from "radix-ui";
import { Download, X } from "lucide-react";
import type { Attachment } from "@/lib/api/client";

export function Lightbox({ attachment, onClose }: { attachment: Attachment | null; onClose: () => void }) {
  return (
    <Dialog.Root open={!!attachment} onOpenChange={(open) => !open && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-black/85" />
        <Dialog.Content className="fixed inset-0 z-50 flex flex-col p-3 sm:p-6" onClick={onClose}>
          <div className="flex items-center gap-2 text-white" onClick={(e) => e.stopPropagation()}>
            <Dialog.Title className="min-w-0 flex-1 truncate text-sm font-medium">{attachment?.fileName}</Dialog.Title>
            <Dialog.Description className="sr-only">Full-size image</Dialog.Description>
            {attachment && (
              <a href={attachment.url} download={attachment.fileName} className="inline-flex h-10 w-10 items-center justify-center rounded-lg hover:bg-white/10" aria-label="Download image">
                <Download className="h-5 w-5" aria-hidden="true" />
              </a>
            )}
            <Dialog.Close className="inline-flex h-10 w-10 items-center justify-center rounded-lg hover:bg-white/10" aria-label="Close image">
              <X className="h-5 w-5" aria-hidden="true" />
            </Dialog.Close>
          </div>
          <div className="flex min-h-0 flex-1 items-center justify-center pt-3">
            {attachment && <img src={attachment.url} alt={attachment.fileName} className="max-h-full max-w-full rounded-lg object-contain" onClick={(e) => e.stopPropagation()} />}
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}

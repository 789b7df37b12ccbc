// Search within one ticket: results with highlights; choosing one opens `?message=` and jumps to it.
import { useDeferredValue, useState } from "react";
import { Search, X } from "lucide-react";
import { IconButton } from "@/components/Button";
import { Spinner } from "@/components/Spinner";
import { highlightText, plainText, queryPattern } from "@/lib/markdown";
import { useTicketSearch } from "../api/chat";

export function TicketSearch({ ticketId, nameOf, onPick, onClose }: { ticketId: string; nameOf: (id: string | null) => string; onPick: (messageId: string) => void; onClose: () => void }) {
  const [q, setQ] = useState("");
  const deferred = useDeferredValue(q.trim());
  const results = useTicketSearch(ticketId, deferred);
  const pattern = queryPattern(deferred);
  return (
    <div className="relative border-b border-line bg-panel px-3 py-2 sm:px-4">
      <div className="relative flex items-center gap-2">
        <Search className="pointer-events-none absolute left-3 h-4 w-4 text-muted" aria-hidden="true" />
        <input
          type="search"
          role="searchbox"
          aria-label="Search messages"
          placeholder="Search in this ticket"
          autoFocus
          value={q}
          onChange={(e) => setQ(e.target.value)}
          onKeyDown={(e) => e.key === "Escape" && onClose()}
          className="h-10 w-full rounded-lg border border-line bg-surface pl-9 pr-3 text-base text-ink placeholder:text-muted focus:border-accent focus:bg-panel focus:outline-none sm:text-sm [&::-webkit-search-cancel-button]:hidden"
        />
        <IconButton label="Close search" onClick={onClose}>
          <X className="h-5 w-5" aria-hidden="true" />
        </IconButton>
      </div>
      {deferred && (
        <div className="absolute inset-x-3 top-full z-20 mt-1 max-h-80 overflow-y-auto rounded-xl border border-line bg-panel shadow-lg sm:inset-x-4">
          {results.isPending ? (
            <div className="p-4"><Spinner label="Searching…" /></div>
          ) : results.isError ? (
            <p role="alert" className="p-4 text-sm text-danger">{results.error.message}</p>
          ) : results.data.items.length === 0 ? (
            <p className="p-4 text-sm text-muted">No messages match “{deferred}”.</p>
          ) : (
            <ul aria-label="Search results" className="divide-y divide-line">
              {results.data.items.map((hit) => (
                <li key={hit.id}>
                  <button type="button" onClick={() => onPick(hit.id)} className="block w-full px-4 py-2.5 text-left hover:bg-surface focus-visible:bg-surface">
                    <span className="flex justify-between gap-2 text-xs text-muted">
                      <span className="font-medium text-ink">{nameOf(hit.senderId)}</span>
                      <span className="tabular">{new Date(hit.createdAt).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}</span>
                    </span>
                    <span className="mt-0.5 line-clamp-2 block text-sm text-ink">{pattern ? highlightText(plainText(hit.content), pattern) : plainText(hit.content)}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

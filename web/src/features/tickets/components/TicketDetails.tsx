// The ticket's side panel: description, assignee, and the participant list with add/remove/leave.
import { lazy, Suspense, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { UserMinus, UserPlus, X } from "lucide-react";
import { Avatar } from "@/components/Avatar";
import { TextInput } from "@/components/Field";
import { Button, IconButton } from "@/components/Button";
import { Markdown } from "@/lib/markdown";
import type { Participant, Ticket } from "@/lib/api/client";
import { permissions, useParticipantMutations, useUpdateTicket, type Caller } from "../api/tickets";

// Only people who may add participants see the picker: it loads with the panel for them alone.
const PeoplePicker = lazy(() => import("./PeoplePicker").then((m) => ({ default: m.PeoplePicker })));

export function TicketDetails({ ticket, me, participants, onClose }: { ticket: Ticket; me: Caller; participants: Participant[]; onClose: () => void }) {
  const can = permissions(ticket, me);
  const { add, remove } = useParticipantMutations(ticket.id);
  const update = useUpdateTicket(ticket.id);
  const [newId, setNewId] = useState("");
  const navigate = useNavigate();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!newId.trim()) return;
    await add.mutateAsync(newId.trim());
    setNewId("");
  }

  return (
    <aside aria-label="Ticket details" className="flex h-full flex-col overflow-y-auto bg-panel">
      <div className="flex items-center justify-between border-b border-line px-4 py-3">
        <h2 className="text-sm font-semibold text-ink-strong">Details</h2>
        <IconButton label="Close details" onClick={onClose}>
          <X className="h-5 w-5" aria-hidden="true" />
        </IconButton>
      </div>
      <div className="space-y-6 p-4">
        <section>
          <h3 className="mb-1 text-xs font-semibold uppercase tracking-wide text-muted">Description</h3>
          {ticket.description ? <div className="text-sm text-ink"><Markdown text={ticket.description} /></div> : <p className="text-sm text-muted">No description.</p>}
          <p className="mt-2 text-xs text-muted">Opened {new Date(ticket.createdAt).toLocaleString()}</p>
        </section>
        <section>
          <label htmlFor="assignee" className="mb-1 block text-xs font-semibold uppercase tracking-wide text-muted">
            Assignee
          </label>
          {can.assign ? (
            <select
              id="assignee"
              value={ticket.assigneeId ?? ""}
              onChange={(e) => e.target.value && update.mutate({ assigneeId: e.target.value })}
              className="h-10 w-full rounded-lg border border-line bg-panel px-2 text-sm text-ink"
            >
              {!ticket.assigneeId && <option value="">Unassigned</option>}
              {participants.map((p) => (
                <option key={p.userId} value={p.userId}>
                  {p.name}
                </option>
              ))}
            </select>
          ) : (
            <p className="text-sm text-ink">{participants.find((p) => p.userId === ticket.assigneeId)?.name ?? (ticket.assigneeId || "Unassigned")}</p>
          )}
          {update.isError && <p role="alert" className="mt-1 text-xs text-danger">{update.error.message}</p>}
        </section>
        <section>
          <h3 className="mb-2 text-xs font-semibold uppercase tracking-wide text-muted">Participants ({participants.length})</h3>
          <ul className="space-y-1">
            {participants.map((p) => (
              <li key={p.userId} className="flex items-center gap-2 rounded-lg py-1">
                <Avatar id={p.userId} name={p.name} size={28} />
                <span className="min-w-0 flex-1 truncate text-sm text-ink">
                  {p.name}
                  {p.userId === me.id && <span className="text-muted"> (you)</span>}
                  {p.userId === ticket.assigneeId && <span className="ml-1 text-xs text-muted">· assignee</span>}
                </span>
                {can.removeParticipant(p.userId) && (
                  <IconButton
                    label={p.userId === me.id ? "Leave this ticket" : `Remove ${p.name}`}
                    className="h-8 w-8"
                    onClick={async () => {
                      await remove.mutateAsync(p.userId);
                      if (p.userId === me.id) navigate("/tickets");
                    }}
                  >
                    <UserMinus className="h-4 w-4" aria-hidden="true" />
                  </IconButton>
                )}
              </li>
            ))}
          </ul>
          {remove.isError && <p role="alert" className="mt-1 text-xs text-danger">{remove.error.message}</p>}
          {can.addParticipants && (
            <form onSubmit={submit} className="mt-3 flex gap-2">
              <label htmlFor="add-participant" className="sr-only">
                Add a participant
              </label>
              <div className="min-w-0 flex-1">
                <Suspense fallback={<TextInput id="add-participant" disabled placeholder="Name or user id" />}>
                  <PeoplePicker
                    id="add-participant"
                    value={newId}
                    onValueChange={setNewId}
                    onPick={(p) => add.mutate(p.id)}
                    exclude={participants.map((p) => p.userId)}
                    placeholder="Name or user id"
                  />
                </Suspense>
              </div>
              <Button type="submit" disabled={!newId.trim() || add.isPending}>
                <UserPlus className="h-4 w-4" aria-hidden="true" /> Add
              </Button>
            </form>
          )}
          {add.isError && <p role="alert" className="mt-1 text-xs text-danger">{add.error.message}</p>}
        </section>
      </div>
    </aside>
  );
}

// "New ticket": title, description and the people to include (user ids), then opens the new ticket.
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { Button } from "@/components/Button";
import { X } from "lucide-react";
import { Avatar } from "@/components/Avatar";
import { Label, TextArea, TextInput } from "@/components/Field";
import { Modal } from "@/components/Modal";
import { useCreateTicket } from "../api/tickets";
import { PeoplePicker, type Picked } from "./PeoplePicker";

export function CreateTicketDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const create = useCreateTicket();
  const navigate = useNavigate();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [people, setPeople] = useState<Picked[]>([]);
  const [typed, setTyped] = useState("");

  async function submit(e: FormEvent) {
    e.preventDefault();
    // Text left in the search box counts as a user id: typing an id and pressing Create adds them.
    const participantIds = [...new Set([...people.map((p) => p.id), ...(typed.trim() ? [typed.trim()] : [])])];
    const ticket = await create.mutateAsync({ title: title.trim(), description: description.trim(), participantIds });
    onOpenChange(false);
    setTitle("");
    setDescription("");
    setPeople([]);
    setTyped("");
    navigate(`/tickets/${ticket.id}`);
  }

  return (
    <Modal open={open} onOpenChange={onOpenChange} title="New ticket" description="Describe the problem; the people you add can chat with you about it.">
      <form onSubmit={submit} className="space-y-4">
        <div>
          <Label htmlFor="ticket-title">Title</Label>
          <TextInput id="ticket-title" required maxLength={500} value={title} onChange={(e) => setTitle(e.target.value)} placeholder="e.g. Kitchen tap is leaking" autoFocus />
        </div>
        <div>
          <Label htmlFor="ticket-description">Description</Label>
          <TextArea id="ticket-description" rows={4} value={description} onChange={(e) => setDescription(e.target.value)} placeholder="What happened, where, since when…" />
        </div>
        <div>
          <Label htmlFor="ticket-people">Participants</Label>
          {people.length > 0 && (
            <ul aria-label="Chosen participants" className="mb-2 flex flex-wrap gap-1.5">
              {people.map((p) => (
                <li key={p.id} className="flex max-w-full items-center gap-1.5 rounded-full border border-line bg-surface py-0.5 pl-0.5 pr-1 text-sm text-ink">
                  <Avatar id={p.id} name={p.name} size={24} />
                  <span className="min-w-0 truncate">{p.name}</span>
                  <button
                    type="button"
                    aria-label={`Remove ${p.name}`}
                    onClick={() => setPeople((list) => list.filter((x) => x.id !== p.id))}
                    className="inline-flex h-6 w-6 shrink-0 items-center justify-center rounded-full text-muted hover:bg-panel hover:text-ink"
                  >
                    <X className="h-3.5 w-3.5" aria-hidden="true" />
                  </button>
                </li>
              ))}
            </ul>
          )}
          <PeoplePicker
            id="ticket-people"
            value={typed}
            onValueChange={setTyped}
            onPick={(p) => setPeople((list) => [...list, p])}
            exclude={people.map((p) => p.id)}
            describedBy="ticket-people-hint"
          />
          <p id="ticket-people-hint" className="mt-1 text-xs text-muted">
            Search the people you work with, or type a user id. You are included automatically.
          </p>
        </div>
        {create.isError && (
          <p role="alert" className="text-sm text-danger">
            {create.error.message}
          </p>
        )}
        <div className="flex justify-end gap-2 pt-2">
          <Button onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={!title.trim() || create.isPending}>
            {create.isPending ? "Creating…" : "Create ticket"}
          </Button>
        </div>
      </form>
    </Modal>
  );
}

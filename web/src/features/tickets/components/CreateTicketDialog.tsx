// "New ticket": title, description and the people to include (user ids), then opens the new ticket.
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { Button } from "@/components/Button";
import { Label, TextArea, TextInput } from "@/components/Field";
import { Modal } from "@/components/Modal";
import { useCreateTicket } from "../api/tickets";

export function CreateTicketDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const create = useCreateTicket();
  const navigate = useNavigate();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [people, setPeople] = useState("");

  async function submit(e: FormEvent) {
    e.preventDefault();
    const participantIds = people.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
    const ticket = await create.mutateAsync({ title: title.trim(), description: description.trim(), participantIds });
    onOpenChange(false);
    setTitle("");
    setDescription("");
    setPeople("");
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
          <TextInput id="ticket-people" value={people} onChange={(e) => setPeople(e.target.value)} placeholder="User ids, separated by commas" aria-describedby="ticket-people-hint" />
          <p id="ticket-people-hint" className="mt-1 text-xs text-muted">You are included automatically.</p>
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

// What became of an inbound mail, in words an admin reads: the outcome and, for a refusal, why.
// The reasons are those of docs/replies.md; an unknown one is shown as the server sent it.

export const INBOUND_OUTCOMES = ["Accepted", "Refused", "Duplicate", "DeliveryReport", "Ignored"] as const;

export const OUTCOME_LABELS: Record<string, string> = {
  Accepted: "Accepted",
  Refused: "Refused",
  Duplicate: "Duplicate",
  DeliveryReport: "Delivery report",
  Ignored: "Ignored",
};

interface Reason {
  label: string;
  explanation: string;
}

const REASONS: Record<string, Reason> = {
  malformed: { label: "Malformed", explanation: "The MIME structure is broken, or the text is not in its declared charset." },
  loop: { label: "Mail loop", explanation: "Our own mail came back (one of our Message-IDs or sender addresses)." },
  bad_token: { label: "Bad reply address", explanation: "The reply address names no ticket email, or its signature does not match." },
  expired_token: { label: "Expired reply address", explanation: "The email it answers is older than the reply address may be used." },
  auto_reply: { label: "Auto-reply", explanation: "An out-of-office, bulk or list mail, or a mailer daemon." },
  sender_mismatch: { label: "Sender mismatch", explanation: "The From address is not the recipient's, or DMARC failed." },
  not_participant: { label: "Not a participant", explanation: "The recipient has left the ticket, or the ticket is gone." },
  empty: { label: "Empty reply", explanation: "Nothing was left once quotes and signatures were cut, and there was no attachment." },
  too_large: { label: "Too large", explanation: "The mail is over the size limit; the sender's mail server bounces it." },
  not_a_reply: { label: "Not a reply", explanation: "Neither a reply to a ticket email nor a delivery report." },
};

export function outcomeLabel(outcome: string): string {
  return OUTCOME_LABELS[outcome] ?? outcome;
}

export function reasonText(reason: string): Reason {
  return REASONS[reason] ?? { label: reason.replace(/_/g, " "), explanation: "" };
}

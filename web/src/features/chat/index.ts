// Chat: a ticket's live conversation.
export { ChatView } from "./components/ChatView";

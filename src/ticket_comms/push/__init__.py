"""Web Push: subscriptions, the VAPID key, the push outbox and its worker, chat-message pushes."""

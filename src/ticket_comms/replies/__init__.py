"""Reply by email, the incoming half: a reply to a ticket email becomes the recipient's chat message."""

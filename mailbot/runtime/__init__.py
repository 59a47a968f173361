"""The loops: intake from the mailbox, the outbox sender, the daemon that runs both and the scheduler."""

"""Pushing to HubEE: the agents' actions queued in the outbox, then delivered."""

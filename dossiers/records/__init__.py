"""What the portal keeps and who may see it: access, audit, alerts, queues, storage."""

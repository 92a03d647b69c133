"""Receiving from HubEE: notifications, cases, events and their files."""

"""HubEE Portal: réception des télédossiers HubEE."""

__version__ = "0.1.0"
APPLICATION_NAME = "HubEE Portal"

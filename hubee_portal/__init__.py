"""HubEE Portal: réception des télédossiers HubEE."""

__version__ = "0.1.0"
# What HubEE reads in its identification headers (applicationName): the protocol's, unchanged.
APPLICATION_NAME = "HubEE Portal"
# What users read: distinct from the State's own « Portail HubEE ».
PRODUCT_NAME = "Portail de réception HubEE"

"""The exchange with HubEE: the démarche lease, receiving (inbound) and pushing (outbound)."""

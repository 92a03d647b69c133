"""Development tools: never imported by the portal's runtime packages."""

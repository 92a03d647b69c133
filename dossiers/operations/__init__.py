"""Running the portal: health, incidents, retention, integrity, worker heartbeat, schedules
and the « État du portail » page."""

"""The agents' pages: views, forms, filters, the dashboard and their template tags."""

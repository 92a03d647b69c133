import os

from django.core.wsgi import get_wsgi_application

from hubee_portal import file_modes

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hubee_portal.settings")
file_modes.install()  # files and the database private to the portal's account and group
application = get_wsgi_application()

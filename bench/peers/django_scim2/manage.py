#!/usr/bin/env python
"""Django entry point of the django-scim2 peer (python manage.py migrate / runserver)."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)

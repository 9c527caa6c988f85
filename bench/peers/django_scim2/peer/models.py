"""The smallest models the stock django-scim2 adapters work with."""
from django.contrib.auth.models import AbstractUser
from django.db import models
from django_scim.models import AbstractSCIMGroupMixin, AbstractSCIMUserMixin


class Group(AbstractSCIMGroupMixin):
    name = models.CharField(max_length=254)  # the stock SCIMGroup adapter reads and writes .name


class User(AbstractSCIMUserMixin, AbstractUser):
    # SCIMUser reads user.scim_groups, SCIMGroup reads group.user_set
    scim_groups = models.ManyToManyField(Group, related_name="user_set", blank=True)

"""mock_okta: an Okta-like push driver that speaks Okta's exact SCIM wire (and Entra's).

    org = OktaOrg(client, dialect="okta", seed=0)
    p = org.add_person()
    org.assign(p)
"""
from mock_okta.backoff import Backoff, first_wait, schedule
from mock_okta.dialects import DIALECTS
from mock_okta.driver import OktaOrg
from mock_okta.errors import ProvisioningError, UnknownDialect
from mock_okta.people import OktaGroup, Person

__all__ = [
    "DIALECTS", "Backoff", "OktaGroup", "OktaOrg", "Person", "ProvisioningError",
    "UnknownDialect", "first_wait", "schedule",
]

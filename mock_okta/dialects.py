"""The dialects the driver speaks, by name: Okta OIN apps, Okta AIW apps, Okta OIN apps with "Support
PATCH for User", Microsoft Entra ID, and Entra with the aadOptscim062020 flag."""
from __future__ import annotations

from mock_okta.dialect import Dialect
from mock_okta.entra import Entra2020Dialect, EntraDialect
from mock_okta.errors import UnknownDialect
from mock_okta.okta import AiwDialect, OktaDialect, OktaPatchDialect

BY_NAME: dict[str, type[Dialect]] = {d.name: d for d in (OktaDialect, AiwDialect, OktaPatchDialect, EntraDialect, Entra2020Dialect)}
DIALECTS: tuple[str, ...] = tuple(BY_NAME)  # ("okta", "okta-aiw", "okta-patch", "entra", "entra-2020")


def get_dialect(name: str) -> Dialect:
    try:
        return BY_NAME[name]()
    except (KeyError, TypeError):
        raise UnknownDialect(str(name), DIALECTS) from None

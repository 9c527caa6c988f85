"""The dialects the driver speaks, by name: Okta OIN apps, Okta AIW apps, and Microsoft Entra ID."""
from __future__ import annotations

from mock_okta.dialect import Dialect
from mock_okta.entra import EntraDialect
from mock_okta.errors import UnknownDialect
from mock_okta.okta import AiwDialect, OktaDialect

BY_NAME: dict[str, type[Dialect]] = {d.name: d for d in (OktaDialect, AiwDialect, EntraDialect)}
DIALECTS: tuple[str, ...] = tuple(BY_NAME)  # ("okta", "okta-aiw", "entra")


def get_dialect(name: str) -> Dialect:
    try:
        return BY_NAME[name]()
    except (KeyError, TypeError):
        raise UnknownDialect(str(name), DIALECTS) from None

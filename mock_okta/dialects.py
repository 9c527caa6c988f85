"""The dialects the driver speaks, by name: Okta OIN apps, Okta AIW apps, Okta OIN apps with "Support
PATCH for User", Microsoft Entra ID, Entra with the aadOptscim062020 flag, OneLogin and PingFederate."""
from __future__ import annotations

from mock_okta.dialect import Dialect
from mock_okta.entra import Entra2020Dialect, EntraDialect
from mock_okta.errors import UnknownDialect
from mock_okta.okta import AiwDialect, OktaDialect, OktaPatchDialect
from mock_okta.onelogin import OneLoginDialect
from mock_okta.pingfederate import PingFederateDialect

BY_NAME: dict[str, type[Dialect]] = {d.name: d for d in (OktaDialect, AiwDialect, OktaPatchDialect, EntraDialect, Entra2020Dialect,
                                                        OneLoginDialect, PingFederateDialect)}
# ("okta", "okta-aiw", "okta-patch", "entra", "entra-2020", "onelogin", "pingfederate")
DIALECTS: tuple[str, ...] = tuple(BY_NAME)


def get_dialect(name: str, **options: object) -> Dialect:
    """The dialect ``name``, with the admin's settings ``options`` (OneLogin: ``deprovision``, ``schemas``;
    PingFederate: ``deprovision``, ``group_patch``); a setting the dialect does not have is a ValueError."""
    try:
        cls = BY_NAME[name]
    except (KeyError, TypeError):
        raise UnknownDialect(str(name), DIALECTS) from None
    try:
        return cls(**options)
    except TypeError:
        raise ValueError(f"the {name} dialect has no setting among {', '.join(sorted(options))}") from None

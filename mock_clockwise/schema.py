"""RFC 7643 attribute definitions (core User, enterprise User, core Group) as data, the two
resource types and attribute-path resolution (RFC 7644 §3.10). Values are checked against these
definitions in validation.py.

No web imports: filters, patch, projection and validation call `resolve` and `get_ci`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def by_lower_name(attributes: tuple[Attribute, ...]) -> dict[str, Attribute]:
    """Attributes by lower-case name, the first of a name winning (as a scan in order would)."""
    out: dict[str, Attribute] = {}
    for a in attributes:
        out.setdefault(a.name.lower(), a)
    return out


@dataclass(frozen=True, repr=False)
class Attribute:
    """One attribute definition with the RFC 7643 §2.2 characteristics (and §7 defaults)."""

    name: str
    type: str = "string"  # string boolean decimal integer dateTime reference complex binary
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"  # readOnly readWrite immutable writeOnly
    returned: str = "default"  # always never default request
    uniqueness: str = "none"  # none server global
    description: str = ""
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Attribute({self.name!r}, {self.type})"

    def sub(self, name: str) -> Attribute | None:
        """The sub-attribute called `name` (RFC 7643 §2.1: attribute names are case-insensitive)."""
        return self.subs_by_lower.get(name.lower())

    @cached_property
    def subs_by_lower(self) -> dict[str, Attribute]:
        # Built once per definition (the definitions are constants): every body and path looks names up.
        return by_lower_name(self.sub_attributes)

    @property
    def is_complex(self) -> bool:
        return self.type == "complex"


@dataclass(frozen=True)
class Schema:
    """A schema (RFC 7643 §7): its URN id, name, description and top-level attributes."""

    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]

    def attr(self, name: str) -> Attribute | None:
        return self.attrs_by_lower.get(name.lower())

    @cached_property
    def attrs_by_lower(self) -> dict[str, Attribute]:
        return by_lower_name(self.attributes)


@dataclass(frozen=True)
class AttrRef:
    """A resolved attribute path: the schema URN it lives in, the attribute and the optional
    sub-attribute. `is_extension` tells whether the data sits under the URN key of a resource."""

    schema: str
    attribute: Attribute
    sub_attribute: Attribute | None
    is_extension: bool

    @property
    def name(self) -> str:
        return self.attribute.name

    @property
    def sub_name(self) -> str | None:
        return self.sub_attribute.name if self.sub_attribute else None

    @property
    def path(self) -> str:
        """Canonical short path, e.g. `name.givenName` (without the URN)."""
        return f"{self.name}.{self.sub_name}" if self.sub_attribute else self.name

    @property
    def full_path(self) -> str:
        """Canonical URN-qualified path, e.g. `urn:...:enterprise:2.0:User:employeeNumber`."""
        return f"{self.schema}:{self.path}"

    @property
    def leaf(self) -> Attribute:
        """The definition that governs the value: the sub-attribute if any, else the attribute."""
        return self.sub_attribute or self.attribute


# --- helpers to write definitions compactly ------------------------------------------------
def _s(name: str, desc: str, **kw: Any) -> Attribute:
    return Attribute(name=name, description=desc, **kw)


def _multi(name: str, desc: str, *, value_type: str = "string", value_case_exact: bool = False,
           types: tuple[str, ...] = (), extra: tuple[Attribute, ...] = (), ref_types: tuple[str, ...] = ()
           ) -> Attribute:
    """A multi-valued complex attribute with the RFC 7643 §2.4 default sub-attributes."""
    subs: list[Attribute] = [
        _s("value", f"The value of the {name} entry.", type=value_type, case_exact=value_case_exact),
        _s("display", "A human-readable name, primarily used for display purposes.", ),
        _s("type", "A label indicating the attribute's function.", canonical_values=types),
        _s("primary", "A Boolean value indicating the 'primary' or preferred value; at most one true.",
           type="boolean"),
    ]
    if ref_types:
        subs.insert(1, _s("$ref", "The URI of the referenced resource.", type="reference",
                          reference_types=ref_types))
    subs.extend(extra)
    return Attribute(name=name, type="complex", multi_valued=True, description=desc,
                     sub_attributes=tuple(subs))


# RFC 7643 §3.1: common attributes of every resource.
META = Attribute(
    name="meta", type="complex", mutability="readOnly",
    description="Resource metadata maintained by the service provider.",
    sub_attributes=(
        _s("resourceType", "The name of the resource type.", case_exact=True, mutability="readOnly"),
        _s("created", "When the resource was added.", type="dateTime", mutability="readOnly"),
        _s("lastModified", "When the resource was last updated.", type="dateTime", mutability="readOnly"),
        _s("location", "The URI of the resource.", type="reference", mutability="readOnly",
           reference_types=("uri",)),
        _s("version", "The version (ETag) of the resource.", case_exact=True, mutability="readOnly"),
    ),
)
COMMON: tuple[Attribute, ...] = (
    _s("id", "Unique identifier for the resource, assigned by the service provider.", case_exact=True,
       mutability="readOnly", returned="always", uniqueness="server"),
    _s("externalId", "An identifier for the resource as defined by the provisioning client.",
       case_exact=True),
    META,
)

_NAME = Attribute(
    name="name", type="complex", description="The components of the user's real name.",
    sub_attributes=(
        _s("formatted", "The full name, formatted for display."),
        _s("familyName", "The family name (last name)."),
        _s("givenName", "The given name (first name)."),
        _s("middleName", "The middle name(s)."),
        _s("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
        _s("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
    ),
)
_ADDRESS_SUBS = (
    _s("formatted", "The full mailing address, formatted for display."),
    _s("streetAddress", "The full street address component."),
    _s("locality", "The city or locality component."),
    _s("region", "The state or region component."),
    _s("postalCode", "The zip code or postal code component."),
    _s("country", "The country name component (ISO 3166-1 alpha-2)."),
    _s("type", "A label indicating the address's function.", canonical_values=("work", "home", "other")),
    _s("primary", "A Boolean value indicating the primary address; at most one true.", type="boolean"),
)

USER_SCHEMA = Schema(
    id=CORE_USER, name="User", description="User Account",
    attributes=(
        _s("userName", "Unique identifier for the User, used to authenticate.", required=True,
           uniqueness="server"),
        _NAME,
        _s("displayName", "The name of the User, suitable for display to end-users."),
        _s("nickName", "The casual way to address the user."),
        _s("profileUrl", "A fully qualified URL pointing to the User's online profile.", type="reference",
           reference_types=("external",)),
        _s("title", "The user's title, such as 'Vice President'."),
        _s("userType", "Identifies the relationship between the organization and the user."),
        _s("preferredLanguage", "The User's preferred written or spoken language."),
        _s("locale", "The User's default location, e.g. 'en-US'."),
        _s("timezone", "The User's time zone in the IANA Time Zone database format."),
        _s("active", "A Boolean value indicating the User's administrative status.", type="boolean"),
        _s("password", "The User's cleartext password (write-only).", mutability="writeOnly",
           returned="never"),
        _multi("emails", "Email addresses for the user.", types=("work", "home", "other")),
        _multi("phoneNumbers", "Phone numbers for the User.",
               types=("work", "home", "mobile", "fax", "pager", "other")),
        _multi("ims", "Instant messaging addresses for the User.",
               types=("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")),
        _multi("photos", "URLs of photos of the User.", value_type="reference", types=("photo", "thumbnail")),
        Attribute(name="addresses", type="complex", multi_valued=True,
                  description="A physical mailing address for this User.", sub_attributes=_ADDRESS_SUBS),
        Attribute(
            name="groups", type="complex", multi_valued=True, mutability="readOnly",
            description="A list of groups to which the user belongs (read-only; managed via Groups).",
            sub_attributes=(
                _s("value", "The identifier of the User's group.", mutability="readOnly"),
                _s("$ref", "The URI of the corresponding Group resource.", type="reference",
                   mutability="readOnly", reference_types=("Group",)),
                _s("display", "A human-readable name of the group.", mutability="readOnly"),
                _s("type", "How the membership was derived: 'direct' or 'indirect'.", mutability="readOnly",
                   canonical_values=("direct", "indirect")),
            ),
        ),
        _multi("entitlements", "A list of entitlements for the User."),
        _multi("roles", "A list of roles for the User."),
        _multi("x509Certificates", "A list of certificates issued to the User.", value_type="binary"),
    ),
)

ENTERPRISE_SCHEMA = Schema(
    id=ENTERPRISE_USER, name="EnterpriseUser", description="Enterprise User",
    attributes=(
        _s("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
        _s("costCenter", "Identifies the name of a cost center."),
        _s("organization", "Identifies the name of an organization."),
        _s("division", "Identifies the name of a division."),
        _s("department", "Identifies the name of a department."),
        Attribute(
            name="manager", type="complex", description="The User's manager.",
            sub_attributes=(
                _s("value", "The id of the SCIM resource representing the User's manager."),
                _s("$ref", "The URI of the SCIM resource representing the User's manager.",
                   type="reference", reference_types=("User",)),
                _s("displayName", "The displayName of the User's manager.", mutability="readOnly"),
            ),
        ),
    ),
)

GROUP_SCHEMA = Schema(
    id=CORE_GROUP, name="Group", description="Group",
    attributes=(
        # RFC 7643 §4.2 / §8.7.1: displayName required, caseExact false, not unique.
        _s("displayName", "A human-readable name for the Group.", required=True),
        Attribute(
            name="members", type="complex", multi_valued=True, description="A list of members of the Group.",
            sub_attributes=(
                _s("value", "Identifier of the member of this Group.", case_exact=True, mutability="immutable",
                   required=True),
                _s("$ref", "The URI of the member resource.", type="reference", mutability="immutable",
                   reference_types=("User", "Group")),
                _s("display", "A human-readable name of the member."),
                _s("type", "The type of the member: 'User' or 'Group'.", mutability="immutable",
                   canonical_values=("User", "Group")),
            ),
        ),
    ),
)

SCHEMAS: dict[str, Schema] = {s.id: s for s in (USER_SCHEMA, ENTERPRISE_SCHEMA, GROUP_SCHEMA)}


@dataclass(frozen=True)
class ResourceType:
    """A resource type (RFC 7643 §6) and attribute-path resolution for it."""

    name: str
    endpoint: str
    schema: str
    extensions: tuple[str, ...] = ()
    description: str = ""
    common: tuple[Attribute, ...] = field(default=COMMON, repr=False)

    @property
    def core(self) -> Schema:
        return SCHEMAS[self.schema]

    @cached_property
    def _extensions_by_lower(self) -> dict[str, str]:
        # Computed once per (immutable) resource type: extension_urn runs for every key of every
        # resource the mock serialises.
        return {urn.lower(): urn for urn in self.extensions}

    @cached_property
    def never_returned(self) -> frozenset[str]:
        """Lower-case names of the core attributes with `returned: never` (RFC 7643 §2.2: password)."""
        return frozenset(a.name.lower() for a in self.core.attributes if a.returned == "never")

    def extension_urn(self, name: str) -> str | None:
        """The canonical URN if `name` is one of this type's extension schema URNs (case-insensitive)."""
        if not self.extensions:
            return None
        return self._extensions_by_lower.get(name.lower())

    def top_attr(self, name: str) -> Attribute | None:
        """A core or common top-level attribute by name (no URN, no dots)."""
        return self.core.attr(name) or next((a for a in self.common if a.name.lower() == name.lower()), None)

    def resolve(self, path: str) -> AttrRef | None:
        """Resolve `attr`, `attr.sub`, or a URN-qualified form, case-insensitively.

        RFC 7644 §3.10: attribute names may be fully qualified with the schema URN; unqualified
        names refer to the core schema. Unknown → None (the caller decides what that means)."""
        if not isinstance(path, str) or not path:
            return None
        schema_urn = self.schema
        rest = path
        low = path.lower()
        if low.startswith("urn:"):
            schema_urn = ""
            # Longest match first, so an extension URN that extends the core URN text still wins.
            for urn in sorted((self.schema, *self.extensions), key=len, reverse=True):
                if low.startswith(urn.lower() + ":"):
                    schema_urn, rest = urn, path[len(urn) + 1:]
                    break
            if not schema_urn:
                return None
        parts = rest.split(".")
        if len(parts) > 2 or not all(parts):
            return None
        is_ext = schema_urn != self.schema
        attr = SCHEMAS[schema_urn].attr(parts[0]) if is_ext else self.top_attr(parts[0])
        if attr is None:
            return None
        sub = None
        if len(parts) == 2:
            sub = attr.sub(parts[1])
            if sub is None:
                return None
        return AttrRef(schema=schema_urn, attribute=attr, sub_attribute=sub, is_extension=is_ext)

    def required_attributes(self) -> tuple[Attribute, ...]:
        return tuple(a for a in self.core.attributes if a.required)


USER = ResourceType(name="User", endpoint="/Users", schema=CORE_USER, extensions=(ENTERPRISE_USER,),
                    description="User Account")
GROUP = ResourceType(name="Group", endpoint="/Groups", schema=CORE_GROUP, description="Group")
RESOURCE_TYPES: tuple[ResourceType, ...] = (USER, GROUP)


# --- lookups --------------------------------------------------------------------------------
def get_ci(obj: dict[str, Any], name: str) -> tuple[str | None, Any]:
    """(actual key, value) for a case-insensitive key lookup, or (None, None) (RFC 7643 §2.1:
    attribute names are case-insensitive)."""
    if name in obj:
        return name, obj[name]
    low = name.lower()
    for key, value in obj.items():
        if isinstance(key, str) and key.lower() == low:
            return key, value
    return None, None

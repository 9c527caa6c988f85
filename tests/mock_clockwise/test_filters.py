"""filters.py: RFC 7644 §3.4.2.2 filter parsing and evaluation, index hints, PATCH paths."""
from __future__ import annotations

import pytest

from mock_clockwise.errors import InvalidFilter, InvalidPath
from mock_clockwise.filter_ast import And, Compare, Not, Or, Present, ValuePath
from mock_clockwise.filter_eval import index_hint, matches, validate_filter
from mock_clockwise.filters import parse_filter, parse_path
from mock_clockwise.schema import CORE_GROUP, CORE_USER, ENTERPRISE_USER, GROUP, USER

ANN = {
    "schemas": [CORE_USER, ENTERPRISE_USER], "id": "2819c223-7f76-453a-919d", "externalId": "00uAbC",
    "userName": "Ann.Smith@Example.com", "displayName": "Ann Smith", "title": "Engineer", "active": True,
    "name": {"givenName": "Ann", "familyName": "Smith"},
    "emails": [{"value": "ann@work.example", "type": "work", "primary": True},
               {"value": "ann@home.example", "type": "home"}],
    "addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "Springfield"}],
    "meta": {"resourceType": "User", "created": "2024-01-02T03:04:05Z", "lastModified": "2024-06-01T00:00:00Z"},
    ENTERPRISE_USER: {"employeeNumber": "701984", "department": "Tour Operations"},
}
BOB = {"schemas": [CORE_USER], "id": "b0b", "userName": "bob", "active": False, "emails": [],
       "meta": {"resourceType": "User", "created": "2023-01-01T00:00:00+00:00"}}
ENG = {"schemas": [CORE_GROUP], "id": "g1", "displayName": "Engineering",
       "members": [{"value": "2819c223-7f76-453a-919d", "display": "Ann"}, {"value": "b0b"}]}


def m(text: str, resource: dict = ANN, rtype=USER) -> bool:
    return matches(parse_filter(text), resource, rtype)


# --- operators and case rules -------------------------------------------------------------
@pytest.mark.parametrize("text,expected", [
    ('userName eq "ann.smith@example.com"', True),  # userName caseExact false
    ('USERNAME EQ "ANN.SMITH@EXAMPLE.COM"', True),  # attribute names and operators case-insensitive
    ('userName eq "ann"', False),
    ('userName ne "bob"', True),
    ('userName ne "ANN.SMITH@example.com"', False),
    ('userName co "smith@"', True),
    ('userName co "SMITH@"', True),
    ('userName co "zzz"', False),
    ('userName sw "ann."', True),
    ('userName sw "smith"', False),
    ('userName ew ".COM"', True),
    ('userName ew "example"', False),
    ('title pr', True),
    ('nickName pr', False),
    ('userName gt "am"', True),
    ('userName gt "b"', False),
    ('userName ge "ann.smith@example.com"', True),
    ('userName lt "b"', True),
    ('userName le "ann"', False),
    ('id eq "2819c223-7f76-453a-919d"', True),
    ('id eq "2819C223-7F76-453A-919D"', False),  # id is caseExact
    ('externalId eq "00uAbC"', True),
    ('externalId eq "00uabc"', False),  # externalId is caseExact
    ('active eq true', True),
    ('active eq false', False),
    ('active eq "True"', True),  # Entra-style string boolean
    ('active ne true', False),
    ('name.givenName eq "ann"', True),
    ('name.familyName sw "Sm"', True),
    ('emails.value eq "ANN@HOME.EXAMPLE"', True),  # any value of a multi-valued attribute
    ('emails.type eq "other"', False),
    ('emails co "home.example"', True),  # complex without sub-attribute compares `value`
    ('emails eq "ann@work.example"', True),
    ('meta.created gt "2024-01-01T00:00:00Z"', True),
    ('meta.created gt "2024-01-02T03:30:00+01:00"', True),  # by instant, not by text
    ('meta.created lt "2024-01-02T04:04:05+01:00"', False),  # the same instant
    ('meta.created eq "2024-01-02T03:04:05.000Z"', True),
    ('meta.lastModified ge "2024-06-01T00:00:00Z"', True),
    ('nickName eq null', True),
    ('title eq null', False),
    ('title ne null', True),
    ('nickName ne "x"', True),
    ('nosuchattr eq "x"', False),  # unknown attribute: no match, not an error
    ('nosuchattr pr', False),
    ('not (nosuchattr eq "x")', True),
])
def test_operators(text: str, expected: bool) -> None:
    assert m(text) is expected


def test_urn_qualified_attributes() -> None:
    assert m(f'{ENTERPRISE_USER}:employeeNumber eq "701984"')
    assert m(f'{ENTERPRISE_USER.upper()}:DEPARTMENT sw "tour"')
    assert m(f'{ENTERPRISE_USER}:employeeNumber pr')
    assert not m(f'{ENTERPRISE_USER}:employeeNumber pr', BOB)
    assert m(f'{CORE_USER}:userName eq "ann.smith@example.com"')
    assert m(f'{CORE_USER}:name.givenName eq "Ann"')


def test_pr_is_false_for_null_empty_and_empty_list() -> None:
    assert not m("emails pr", BOB)
    assert m("emails pr")
    assert not m("title pr", {**ANN, "title": ""})
    assert not m("title pr", {**ANN, "title": None})
    assert m("name pr")


# --- logic and precedence -------------------------------------------------------------------
def test_and_or_not_precedence() -> None:
    # and binds tighter than or: false and true or true == (false and true) or true == true
    assert m('userName eq "x" and title pr or active eq true')
    # with parentheses the other grouping is false
    assert not m('userName eq "x" and (title pr or active eq true)')
    assert m('not (userName eq "x") and active eq true')
    assert not m('not (active eq true) or userName eq "x"')
    assert m('(title eq "Engineer") AND (active eq true) OR (nickName pr)')
    tree = parse_filter('a pr or b pr and c pr')
    assert isinstance(tree, Or) and isinstance(tree.items[1], And)
    tree = parse_filter('not (a pr) and b pr')
    assert isinstance(tree, And) and isinstance(tree.items[0], Not)


def test_long_flat_chain_is_fine() -> None:
    text = " or ".join(f'title eq "t{i}"' for i in range(200)) + ' or title eq "Engineer"'
    assert len(text) < 4096
    assert m(text)


# --- value paths ----------------------------------------------------------------------------
def test_value_paths() -> None:
    assert m('emails[type eq "work" and primary eq true]')
    assert not m('emails[type eq "home" and primary eq true]')
    assert m('emails[type eq "home" or value co "nothing"]')
    assert m('emails[not (type eq "work")]')
    assert m('addresses[type eq "work" and streetAddress sw "1 main"]')
    assert not m('emails[type eq "work"]', BOB)
    assert m('members[value eq "b0b"]', ENG, GROUP)
    assert not m('members[value eq "B0B"]', ENG, GROUP)  # members.value is caseExact
    assert m('userName sw "ann" and emails[type eq "work"]')


def test_value_path_with_trailing_sub_attribute_entra() -> None:
    flt = parse_filter('emails[type eq "work"].value eq "ann@work.example"')
    assert isinstance(flt, ValuePath) and flt.then == Compare("value", "eq", "ann@work.example")
    assert matches(flt, ANN, USER)
    # the same entry must satisfy both: the home address is not the work one
    assert not m('emails[type eq "work"].value eq "ann@home.example"')
    assert m('emails[type eq "work"].value pr')
    assert m('emails[type eq "work"].value eq "x" or userName sw "ann"')


# --- parse results ----------------------------------------------------------------------------
def test_values_parse() -> None:
    assert parse_filter('a eq "x\\"y\\u00e9\\n"') == Compare("a", "eq", 'x"yé\n')
    assert parse_filter("a eq 42") == Compare("a", "eq", 42)
    assert parse_filter("a eq -1.5e2") == Compare("a", "eq", -150.0)
    assert parse_filter("a EQ TRUE") == Compare("a", "eq", True)
    assert parse_filter("a eq False") == Compare("a", "eq", False)
    assert parse_filter("a eq null") == Compare("a", "eq", None)
    assert parse_filter("a PR") == Present("a")
    assert parse_filter("  a pr  ") == Present("a")


@pytest.mark.parametrize("text,words", [
    ("", "empty"),
    ("   ", "empty"),
    ('userName eq', "ends unexpectedly"),
    ('userName xx "a"', "not valid"),
    ('userName eq "a', "not valid"),
    ('(userName eq "a"', "ends unexpectedly"),
    ('userName eq "a")', "not valid"),
    ('emails[type eq "work"', "ends unexpectedly"),
    ('userName eq "a" and', "ends unexpectedly"),
    ("userName eq bare", "not valid"),
    ("userName eq 'single'", "not valid"),
    ("not userName eq \"a\"", "not valid"),
    ('userName "a"', "not valid"),
    ('emails[members[value eq "x"]]', "nests"),
    ('userName eq "a" andd title pr', "not valid"),
    ('userName eq "\\x"', "not valid"),
])
def test_invalid_filters(text: str, words: str) -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_filter(text)
    assert words in info.value.detail
    assert info.value.status == 400 and info.value.scim_type == "invalidFilter"


def test_invalid_filter_reports_position() -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_filter('userName xx "a"')
    assert "column 10" in info.value.detail


def test_limits() -> None:
    with pytest.raises(InvalidFilter, match="too long"):
        parse_filter('title eq "' + "x" * 5000 + '"')
    deep = "(" * 33 + "title pr" + ")" * 33
    with pytest.raises(InvalidFilter, match="too deeply nested"):
        parse_filter(deep)
    ok = "(" * 32 + "title pr" + ")" * 32
    assert parse_filter(ok) == Present("title")
    # brackets inside strings do not count
    assert parse_filter('title eq "' + "(" * 40 + '"') == Compare("title", "eq", "(" * 40)


@pytest.mark.parametrize("text", ['active gt true', 'active lt false', 'x509Certificates.value gt "a"',
                                  'userName gt null', 'userName ge true', 'meta.created gt "yesterday"',
                                  'userName co 5', 'emails[primary gt true]', 'name gt "x"'])
def test_semantically_invalid_filters(text: str) -> None:
    flt = parse_filter(text)
    with pytest.raises(InvalidFilter):
        validate_filter(flt, USER)
    with pytest.raises(InvalidFilter):
        index_hint(flt, USER)
    with pytest.raises(InvalidFilter):
        matches(flt, ANN, USER)


# --- index hints ----------------------------------------------------------------------------
@pytest.mark.parametrize("text,rtype,hint", [
    ('userName eq "Test.User@Okta.Local"', USER, ("userName", "test.user@okta.local")),
    ('USERNAME EQ "A"', USER, ("userName", "a")),
    (f'{CORE_USER}:userName eq "A"', USER, ("userName", "a")),
    ('externalId eq "00uAbC"', USER, ("externalId", "00uAbC")),
    ('id eq "X1"', USER, ("id", "X1")),
    ('userName eq "a" and active eq true', USER, ("userName", "a")),
    ('active eq true and externalId eq "E"', USER, ("externalId", "E")),
    ('displayName eq "Test SCIMv2"', GROUP, ("displayName", "test scimv2")),
    ('(userName eq "a") and title pr', USER, ("userName", "a")),
    ('userName eq "a" or userName eq "b"', USER, None),
    ('userName ne "a"', USER, None),
    ('userName sw "a"', USER, None),
    ('not (userName eq "a")', USER, None),
    ('displayName eq "Ann"', USER, None),  # users' displayName is not indexed
    ('userName eq null', USER, None),
    ('emails[type eq "work"].value eq "a"', USER, None),
    ('title eq "x"', USER, None),
])
def test_index_hint(text: str, rtype, hint) -> None:
    assert index_hint(parse_filter(text), rtype) == hint


def test_index_hint_is_consistent_with_matches() -> None:
    flt = parse_filter('userName eq "ANN.SMITH@example.COM" and active eq true')
    attr, value = index_hint(flt, USER)
    assert ANN[attr].lower() == value and matches(flt, ANN, USER)


# --- PATCH paths ------------------------------------------------------------------------------
def test_parse_path_forms() -> None:
    p = parse_path("members", GROUP)
    assert p.ref.name == "members" and p.ref.sub_attribute is None and p.value_filter is None
    p = parse_path("NAME.givenName", USER)
    assert p.ref.path == "name.givenName" and p.value_filter is None
    p = parse_path('members[value eq "x"]', GROUP)
    assert p.ref.name == "members" and p.value_filter == Compare("value", "eq", "x")
    p = parse_path('emails[type eq "work"].value', USER)
    assert p.ref.path == "emails.value" and p.value_filter == Compare("type", "eq", "work")
    p = parse_path('addresses[type eq "work"].streetAddress', USER)
    assert p.ref.path == "addresses.streetAddress"
    p = parse_path(f"{ENTERPRISE_USER}:employeeNumber", USER)
    assert p.ref.is_extension and p.ref.name == "employeeNumber"
    p = parse_path(f"{ENTERPRISE_USER}:manager.value", USER)
    assert p.ref.is_extension and p.ref.path == "manager.value"


@pytest.mark.parametrize("text", ["", "nope", "name.nope", 'name[givenName eq "a"]', 'title[x eq "a"]',
                                  'emails[type eq "work"].nope', 'emails[type eq "work"', 'emails[nope eq "x"]',
                                  'members eq "x"', 'emails[type eq "work"]value', "emails..value",
                                  'emails[primary gt true]'])
def test_parse_path_errors(text: str) -> None:
    rtype = USER
    with pytest.raises(InvalidPath) as info:
        parse_path(text, rtype)
    assert info.value.scim_type == "invalidPath" and info.value.detail


def test_compile_filter_agrees_with_matches() -> None:
    from mock_clockwise.filter_eval import compile_filter
    for text in ['userName sw "ann" and emails[type eq "work"]', 'title pr or active eq false',
                 'not (emails.value co "home")', 'nosuchattr eq "x"']:
        flt = parse_filter(text)
        pred = compile_filter(flt, USER)
        for resource in (ANN, BOB):
            assert pred(resource) is matches(flt, resource, USER)


def test_sibling_value_paths_are_not_nested() -> None:
    assert m('emails[type eq "work"] and emails[value co "home"]')
    assert m('not (emails[type eq "other"])')


def test_schemas_pseudo_attribute() -> None:
    assert m(f'schemas eq "{ENTERPRISE_USER}"')
    assert not m(f'schemas eq "{ENTERPRISE_USER}"', BOB)
    assert m('schemas pr', BOB)


# --- robustness: any text is a filter or an InvalidFilter, never another exception -------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_pieces = st.sampled_from(['userName', ' eq ', ' ne ', ' co ', ' gt ', ' pr', ' and ', ' or ', 'not ', '(', ')',
                           '[', ']', '"x"', '"', '\\', 'true', 'null', '1.5', '-', 'emails', '.value', 'type',
                           'urn:x:', f'{ENTERPRISE_USER}:', 'meta.created', ' ', '\u00e9', '$ref'])


@settings(max_examples=400, deadline=None)
@given(st.lists(_pieces, max_size=12).map("".join) | st.text(max_size=30))
def test_fuzz_filter_never_crashes(text: str) -> None:
    try:
        flt = parse_filter(text)
    except InvalidFilter as exc:
        assert exc.detail
        return
    try:
        index_hint(flt, USER)
        assert matches(flt, ANN, USER) in (True, False)
    except InvalidFilter as exc:
        assert exc.detail


@settings(max_examples=200, deadline=None)
@given(st.lists(_pieces, max_size=10).map("".join))
def test_fuzz_path_never_crashes(text: str) -> None:
    try:
        parse_path(text, USER)
    except InvalidPath as exc:
        assert exc.detail


def test_plus_inside_a_string_is_literal() -> None:
    # The views percent-decode (`+` → space happens there); a `+` that reaches the parser is data.
    assert parse_filter('userName eq "a+b@x.com"') == Compare("userName", "eq", "a+b@x.com")
    with pytest.raises(InvalidFilter):
        parse_filter('userName+eq+"a"')


# The regex fast paths must give exactly what the grammar gives, and leave everything else to it.
FAST_FILTERS = [
    'userName eq "ann@example.com"', 'USERNAME Eq "a\\"b\\\\c\\u00e9"', ' externalId eq "00u1" ', 'displayName co ""',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7"', 'name.givenName sw "A"',
    'userName\teq\n"x"', 'userName eq "é\u2028"',
]
NOT_FAST_FILTERS = ['userName eq"x"', 'not eq "x"', 'userName eq "x" and active eq true', 'active eq true',
                    'userName eq "\\x"', 'userName pr', 'emails[type eq "work"]', 'userNameeq "x"',
                    'userName eq "a"b"', 'user\u212aame eq "x"']


@pytest.mark.parametrize("text", FAST_FILTERS + NOT_FAST_FILTERS)
def test_fast_filter_agrees_with_grammar(text: str) -> None:
    from mock_clockwise import filters
    try:
        expected: object = filters._lark_filter(text)
    except InvalidFilter as exc:
        expected = ("error", exc.detail)
    try:
        got: object = parse_filter(text)
    except InvalidFilter as exc:
        got = ("error", exc.detail)
    assert got == expected
    assert (filters._fast_compare(text) is not None) == (text in FAST_FILTERS)


FAST_PATHS = ['members[value eq "2819c223-7f76-453a-919d-413861904646"]', 'active', 'name.givenName',
              'emails[type eq "work"].value', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager',
              'Members[VALUE EQ "x"]']
OTHER_PATHS = ['members[value eq "a" or value eq "b"]', 'members [value eq "x"]', 'members[value pr]',
               'emails[type eq "work"].', 'not', '', 'members[value eq "x"', 'emails[primary eq true]']


@pytest.mark.parametrize("text", FAST_PATHS + OTHER_PATHS)
def test_fast_path_split_agrees_with_grammar(text: str) -> None:
    from lark.exceptions import LarkError

    from mock_clockwise import filters

    def run(fn):  # type: ignore[no-untyped-def]
        try:
            return fn(text)
        except LarkError as exc:
            return ("error", type(exc).__name__)
    assert run(filters._split_path) == run(filters._lark_path)

"""The auth and TLS options of `run` and `load` (harness.auth), and reading them: secrets come from files
or environment variables (harness.auth.ENV), never from the command line into a report."""
from __future__ import annotations

import argparse
import re
import ssl
import sys
from typing import Any

from harness.auth import ENV, INSECURE_WARNING, MODES, AuthConfig, AuthError, TLSConfig, config_from
from harness.cli_args import token_problem

# RFC 7230 §3.2.6: a header's name is a token of these characters.
HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def add_auth_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("authentication and TLS (see README: Authentication and TLS)")
    group.add_argument("--auth", choices=MODES, default="bearer",
                       help="how to authenticate to --target (default bearer)")
    group.add_argument("--token-file", metavar="PATH", help=f"file holding the token of bearer or header (or env {ENV['token']})")
    group.add_argument("--auth-header", metavar="NAME", help="header: the name of the header carrying the token")
    group.add_argument("--basic-user", metavar="USER", help="basic: the user name")
    group.add_argument("--password-file", metavar="PATH", help=f"basic: file holding the password (or env {ENV['password']})")
    group.add_argument("--token-url", metavar="URL", help="oauth2-*: the token endpoint")
    group.add_argument("--client-id", metavar="ID", help="oauth2-*: the client id")
    group.add_argument("--client-secret-file", metavar="PATH",
                       help=f"oauth2-*: file holding the client secret (or env {ENV['client_secret']})")
    group.add_argument("--scope", metavar="SCOPE", help="oauth2-client-credentials: the scope to ask for")
    group.add_argument("--refresh-token-file", metavar="PATH",
                       help=f"oauth2-refresh: file holding the refresh token (or env {ENV['refresh_token']})")
    group.add_argument("--ca-bundle", metavar="PATH", help="PEM file of the CA certificates to trust for the target")
    group.add_argument("--client-cert", metavar="PATH", help="client certificate (PEM) for mutual TLS")
    group.add_argument("--client-key", metavar="PATH", help="the client certificate's private key (PEM)")
    group.add_argument("--insecure", action="store_true", help="do not verify the target's certificate (loud warning)")


# The same options for the pytest plugin, as --scim-<name> (their dest: scim_<dest>).
SHARED = ("auth", "token_file", "auth_header", "basic_user", "password_file", "token_url", "client_id",
          "client_secret_file", "scope", "refresh_token_file", "ca_bundle", "client_cert", "client_key", "insecure")


_SHARED_OPTION = re.compile(r"(?<![\w-])--(" + "|".join(n.replace("_", "-") for n in SHARED) + r")(?![\w-])")


def as_pytest_options(message: str) -> str:
    """A message that names `run`'s auth and TLS options (--client-cert), as the pytest plugin names
    them (--scim-client-cert): a pytest user is told the option they can give."""
    return _SHARED_OPTION.sub(r"--scim-\1", message)


def add_pytest_options(group: Any) -> None:
    """The auth and TLS options of `run`, as --scim-auth, --scim-token-file, ... on a pytest option group."""
    scratch = argparse.ArgumentParser(add_help=False)
    add_auth_options(scratch)
    for action in scratch._actions:  # noqa: SLF001 (argparse keeps its actions there)
        if action.dest in SHARED:
            extra = {"action": "store_true"} if action.dest == "insecure" else {"metavar": action.metavar}
            if action.choices:
                extra["choices"] = action.choices
            group.addoption(f"--scim-{action.dest.replace('_', '-')}", dest=f"scim_{action.dest}",
                            default=action.default, help=action.help, **extra)


def namespace_of_options(getoption: Any, token: str | None) -> argparse.Namespace:
    """The pytest options as the Namespace auth_from_args reads."""
    return argparse.Namespace(token=token, **{name: getoption(f"scim_{name}") for name in SHARED})


def auth_from_args(args: argparse.Namespace, env: dict[str, str]) -> tuple[AuthConfig, TLSConfig]:
    """The auth mode and TLS of the command line (ValueError, one line, when incomplete or unreadable)."""
    values: dict[str, Any] = {"token": getattr(args, "token", None), "header": args.auth_header,
                              "username": args.basic_user, "token_url": args.token_url,
                              "client_id": args.client_id, "scope": args.scope}
    files = {"token": args.token_file, "password": args.password_file, "client_secret": args.client_secret_file,
             "refresh_token": args.refresh_token_file}
    try:
        config = config_from(args.auth, values, files, env)
    except AuthError as exc:
        raise ValueError(str(exc)) from None
    tls = TLSConfig(ca_bundle=args.ca_bundle, client_cert=args.client_cert, client_key=args.client_key,
                    insecure=args.insecure)
    problem = config.problem() or tls.problem() or header_problem(config, _token_source(args))
    if problem:
        raise ValueError(problem)
    try:
        tls.client_options()
    except (ssl.SSLError, OSError) as exc:
        raise ValueError(f"cannot load the TLS files (--ca-bundle, --client-cert, --client-key): {exc}") from None
    if tls.insecure:
        print(INSECURE_WARNING, file=sys.stderr, flush=True)
    return config, tls


def _token_source(args: argparse.Namespace) -> str:
    if args.token_file:
        return "--token-file"
    return "--token" if getattr(args, "token", None) else ENV["token"]


def header_problem(config: AuthConfig, source: str) -> str | None:
    """What keeps the token or the header name of bearer and header mode out of a request header, in one
    line that never quotes the token (as run's --token, harness.cli_args.token_problem)."""
    if config.mode not in ("bearer", "header"):
        return None
    if config.mode == "header" and config.header and not HEADER_NAME.match(config.header):
        return f"--auth-header: {config.header[:40]!r} is not a header name (RFC 7230 §3.2.6: a token)"
    problem = token_problem(config.token) if config.token else None
    return f"{source}: the token {problem}" if problem else None


def auth_given(args: argparse.Namespace) -> bool:
    """Whether any auth or TLS option was given (they need --target)."""
    return args.auth != "bearer" or any(getattr(args, name) for name in (
        "token_file", "auth_header", "basic_user", "password_file", "token_url", "client_id", "client_secret_file",
        "scope", "refresh_token_file", "ca_bundle", "client_cert", "client_key", "insecure"))

"""Whose handbook a request reads or writes: the caller's county.

- A token that carries a county (staff of a county): that county. A ``county`` query parameter
  (where a route takes one) must then name it; another county answers 404.
- No county claim (machine clients, service tokens, tokens of a single-county deployment):
  the ``county`` parameter when given; else the county of the client's communities when they
  all lie in one; else the deployment's county when the directory has exactly one; else 422
  ``county_required`` (the deployment serves several counties: say which).
- Anonymous public routes (the printable sheet): the ``county`` parameter, else the
  deployment's single county.

A ``county`` that the directory does not know answers 404 ``unknown_county``. Nothing here
names a county: they all come from the directory (the gateway's data) and the tokens.
"""

from __future__ import annotations

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.directory import Directory
from doorstep_shared.http.errors import Invalid, NotFound


def known_county(directory: Directory | None, county: str) -> str:
    """``county`` if the directory knows it (404 ``unknown_county`` otherwise)."""
    if directory is not None and directory.county(county) is None:
        raise NotFound(f"No county {county!r}.", code="unknown_county")
    return county


def only_county(directory: Directory) -> str | None:
    """The deployment's county when the directory has exactly one."""
    return directory.counties[0].code if len(directory.counties) == 1 else None


def handbook_county(principal: Principal | None, directory: Directory | None, requested: str | None = None) -> str:
    """The county whose handbook this caller reads and writes (see the module's rules)."""
    if principal is not None and principal.county:
        if requested is not None and requested != principal.county:
            raise NotFound(f"No county {requested!r}.", code="unknown_county")
        return principal.county
    if requested is not None:
        return known_county(directory, requested)
    if directory is not None:
        if principal is not None and principal.communities:
            counties = {directory.county_of(c) for c in principal.communities} - {None}
            if len(counties) == 1:
                return str(counties.pop())
        if principal is not None and principal.community:
            county = directory.county_of(principal.community)
            if county is not None:
                return county
        single = only_county(directory)
        if single is not None:
            return single
    raise Invalid.field(
        "query.county",
        "the deployment serves several counties and the token names none: say which",
        code="county_required",
    )

"""A county role sees the communities of its token's county, read from the directory copy at
every verification (a community added since the token was issued included); without a county
it sees every community; unresolved, it sees none."""

from __future__ import annotations

from doorstep_shared.auth.tokens import Principal, TokenVerifier
from doorstep_shared.directory import Community, County, Directory

from ...support import AUDIENCE, ISSUER, Tokens

TWO = Directory.of(
    (County("hexian", "和县"), County("hanshan", "含山县")),
    (
        Community("chaoyang", "朝阳社区", "hexian"),
        Community("zhenhuai", "镇淮社区", "hexian"),
        Community("huanfeng", "环峰镇", "hanshan"),
    ),
)


def _county_role(role: str = "county_admin", county: str | None = "hexian") -> Principal:
    return Principal(subject="x", kind="user", name="x", roles=frozenset({role}), county=county)


def test_a_county_role_sees_its_countys_communities() -> None:
    for role in ("county_admin", "auditor"):
        ours = _county_role(role).within(TWO)
        assert ours.visible_communities == {"chaoyang", "zhenhuai"}
        assert ours.sees_community("zhenhuai") and not ours.sees_community("huanfeng")
        assert _county_role(role, "hanshan").within(TWO).visible_communities == {"huanfeng"}


def test_without_a_county_a_county_role_sees_every_community_and_unresolved_none() -> None:
    assert _county_role(county=None).within(TWO).visible_communities is None
    assert _county_role().visible_communities == frozenset()  # never resolved: fail closed
    assert _county_role().within(None).visible_communities == frozenset()  # no directory copy yet
    assert _county_role(county="nowhere").within(TWO).visible_communities == frozenset()


def test_other_principals_are_unchanged_by_the_directory() -> None:
    worker = Principal(
        subject="w", kind="user", name="w", roles=frozenset({"social_worker"}), county="hexian", community="chaoyang"
    )
    assert worker.within(TWO) is worker and worker.visible_communities == {"chaoyang"}
    platform = Principal(subject="p", kind="user", name="p", roles=frozenset({"platform_admin"}))
    assert platform.within(TWO).visible_communities == frozenset()
    client = Principal(subject="c", kind="client", name="c", communities=frozenset({"huanfeng"}))
    assert client.within(TWO) is client and client.visible_communities == {"huanfeng"}


async def test_the_verifier_resolves_against_the_copy_as_it_is_at_each_call(tokens: Tokens) -> None:
    held = {"directory": TWO}
    verifier = TokenVerifier(tokens.key_set(), issuer=ISSUER, audience=AUDIENCE, directory=lambda: held["directory"])
    token = tokens.token("county_admin", county="hanshan", community=None)
    assert (await verifier.verify(token)).visible_communities == {"huanfeng"}
    # a community created through the directory API: the same (cached) token sees it at once
    held["directory"] = Directory.of(TWO.counties, (*TWO.communities, Community("taohua", "陶厂镇", "hanshan")))
    assert (await verifier.verify(token)).visible_communities == {"huanfeng", "taohua"}

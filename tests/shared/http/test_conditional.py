"""One check_if_match: absent header (last write wins, or 428), a match, a stale ETag (412); a
copy of another service's document kept with its ETag."""

from __future__ import annotations

import httpx
import pytest

from doorstep_shared.http.conditional import Copy, check_if_match, etag_of, if_none_match, revalidated
from doorstep_shared.http.errors import PreconditionFailed, PreconditionRequired

ETAG = etag_of("item", "gaoling", 3)


def test_etags_are_strong_and_stable() -> None:
    assert etag_of("item", "gaoling", 3) == ETAG
    assert etag_of("item", "gaoling", 4) != ETAG
    assert ETAG.startswith('"') and ETAG.endswith('"') and len(ETAG) == 34


def test_an_absent_header_lets_the_write_through_unless_required() -> None:
    check_if_match(None, ETAG)
    with pytest.raises(PreconditionRequired) as caught:
        check_if_match(None, ETAG, required=True, what="item")
    assert caught.value.status == 428
    assert caught.value.detail == "This update needs an If-Match header with the item's ETag."


@pytest.mark.parametrize("header", [ETAG, f"W/{ETAG}", "*", f'"other", {ETAG}'])
def test_a_header_naming_the_current_version_passes(header: str) -> None:
    check_if_match(header, ETAG, required=True)


def test_a_stale_etag_is_412_with_the_current_etag_and_what_the_caller_adds() -> None:
    with pytest.raises(PreconditionFailed) as caught:
        check_if_match('"stale"', ETAG, current_version=3)
    problem = caught.value.to_problem(language="en")
    assert problem["status"] == 412
    assert problem["code"] == "stale_etag"
    assert problem["detail"] == "The resource has changed since you read it; reload and retry."
    assert problem["current_etag"] == ETAG
    assert problem["current_version"] == 3


def test_a_copy_is_asked_for_again_only_if_changed_and_parsed_once_per_version() -> None:
    parsed: list[dict[str, int]] = []

    def parse(body: dict[str, int]) -> int:
        parsed.append(body)
        return body["revision"]

    assert if_none_match(None) == {}
    first = revalidated(httpx.Response(200, json={"revision": 7}, headers={"ETag": '"r7"'}), None, parse)
    assert first == Copy(7, '"r7"')
    assert if_none_match(first) == {"If-None-Match": '"r7"'}
    assert revalidated(httpx.Response(304), first, parse) is first
    assert revalidated(httpx.Response(503), first, parse) is None  # the caller's error to raise
    assert parsed == [{"revision": 7}]

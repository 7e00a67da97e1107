"""The ownership marks and the record's ownership (pure)."""

from __future__ import annotations

from kubelink.ownership import LINKS_TAG, Ownership, created_by, created_tags, tagged_links, with_links


def test_tags_name_the_creating_link_and_the_links_using_it_case_insensitively():
    tags = {**created_tags("orders"), "Owner": "ops"}
    assert created_by(tags) == "orders" and created_by({"KUBELINK-CREATED-BY": "x"}) == "x"
    assert created_by({"owner": "ops"}) is None
    both = with_links(tags, {"reports", "orders"})
    assert both[LINKS_TAG] == "orders,reports" and both["Owner"] == "ops"
    assert tagged_links(both) == ("orders", "reports")
    assert LINKS_TAG not in with_links(both, set())  # no links: the tag goes
    assert LINKS_TAG not in with_links(tags, {"x" * 300})  # longer than ARM's 256 characters: not written


def test_creations_accumulate_and_the_first_adoption_is_kept():
    first = Ownership.from_json(None).merged(["/a", "/B"], {"service": {"type": "ClusterIP"}})
    again = first.merged(["/b", "/c"], {"service": {"type": "LoadBalancer"}})
    assert again.created == ("/a", "/B", "/c")  # ARM ids compare case-insensitively
    assert again.adopted["service"] == {"type": "ClusterIP"}  # what it was before kubelink, not after
    assert Ownership.from_json(again.to_json()) == again
    rows = again.label([{"resource": "/A", "action": "none"}, {"resource": "/z", "action": "none"}])
    assert [r["ownership"] for r in rows] == ["owned", "adopted"]
    assert again.relation("/new", exists=False) == "owned"

"""Composite fields end to end (spec 1.2.4, 1.4.5; CONTRACT "Writing").

A Composite's value is computed from its subfields by ``merge(*values)``, stored as a real
attribute, and may key the table, a local index or a global index. These tests check the
value rules without a server, then on the session's server: what is stored, keys given by
their parts (get, delete_key, queries on the table and on indexes), change tracking of the
parts (assign, delete, increment, in-place change) with the forced conflict check, and
objects loaded from an index that did not project the parts.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from helpers import stored

from flywheel import NUMBER, CheckFailed, Composite, Engine, Field, GlobalIndex, Model
from flywheel.fields import default_merge
from flywheel.model_meta import ValidationError


# -- models ----------------------------------------------------------------------------------
class SocialMediaItem(Model):
    """The spec's example (1.2.4): a range key made of the item's type and id."""

    userid = Field(hash_key=True)
    type = Field()
    id = Field()
    uid = Composite("type", "id", range_key=True)


def score_merge(likes: int | None, replies: int | None, deleted: bool | None) -> int | None:
    if deleted:
        return None  # no score attribute: the post leaves the score index
    return (likes or 0) + 5 * (replies or 0)


class Post(Model):
    """The spec's score example, made to work: a local index needs a range key."""

    userid = Field(hash_key=True)
    type = Field()
    id = Field()
    uid = Composite("type", "id", range_key=True)
    likes = Field(data_type=int)
    replies = Field(data_type=int)
    deleted = Field(data_type=bool)
    score = Composite(
        "likes", "replies", "deleted", data_type=NUMBER, merge=score_merge, index="score-index"
    )


class Leg(Model):
    """Composites as hash key, range key, local index key and both keys of global indexes,
    nested ones included."""

    __metadata__ = {  # noqa: RUF012 - the spec's way of declaring model metadata
        "global_indexes": [
            GlobalIndex("route-index", "route", "slot"),
            GlobalIndex.keys("trip-index", "trip"),
        ]
    }
    carrier = Field()
    number = Field(data_type=int)
    flight = Composite("carrier", "number", hash_key=True)
    day = Field(data_type=date)
    seq = Field(data_type=int)
    leg = Composite("day", "seq", range_key=True)
    origin = Field()
    dest = Field()
    route = Composite("origin", "dest")
    slot = Composite("route", "day")  # a composite of a composite
    trip = Composite("flight", "leg")  # a composite of the two composite keys
    terminal = Field()
    gate_no = Field(data_type=int)
    gate = Composite("terminal", "gate_no", index="gate-index")
    tags = Field(data_type=list)
    tagline = Composite("carrier", "tags", merge=lambda carrier, tags: f"{carrier}:{len(tags or [])}")


class Tally(Model):
    """A global index keyed by a merge that is not one-to-one (a sum)."""

    __metadata__ = {  # noqa: RUF012
        "global_indexes": [
            GlobalIndex("total-index", "total"),
            GlobalIndex.keys("total-keys", "total"),
        ]
    }
    id = Field(hash_key=True)
    a = Field(data_type=int)
    b = Field(data_type=int)
    total = Composite("a", "b", data_type=int, merge=lambda a, b: (a or 0) + (b or 0))


class Counted(Model):
    """Parts with defaults: a new object's sync must not fill in a part and overwrite the
    composite built from it."""

    id = Field(hash_key=True)
    kind = Field(default="plain")
    n = Field(data_type=int, default=0)
    label = Composite("kind", "n")


def plain_score(likes: int, replies: int) -> int:
    """A merge that, like most, cannot take None."""
    return likes + 5 * replies


class Scored(Model):
    """A custom merge on a global index that projects only keys (or some attributes)."""

    __metadata__ = {  # noqa: RUF012
        "global_indexes": [
            GlobalIndex.keys("score-index", "city", "score"),
            GlobalIndex.include("text-index", "city", "score", includes=["text"]),
        ]
    }
    h = Field(hash_key=True)
    city = Field()
    text = Field()
    likes = Field(data_type=int, default=0)
    replies = Field(data_type=int, default=0)
    score = Composite("likes", "replies", data_type=int, merge=plain_score)


DAY = date(2013, 1, 1)


def new_leg(**extra: Any) -> Leg:
    values: dict[str, Any] = {
        "carrier": "UA", "number": 1545, "day": DAY, "seq": 1, "origin": "EWR",
        "dest": "IAH", "terminal": "C", "gate_no": 71,
    }
    values.update(extra)
    return Leg(**values)


# -- values (no server) ----------------------------------------------------------------------
def test_the_default_merge_joins_with_colons_and_gives_none_when_a_part_is_none() -> None:
    item = SocialMediaItem(type="facebook", id="12345")
    assert item.uid == "facebook:12345"
    item.id = None  # type: ignore[assignment]
    assert item.uid is None
    assert "uid" not in item.ddb_dump_()  # None: no attribute
    assert default_merge("a", 1, DAY) == "a:1:2013-01-01"
    assert default_merge("a", None) is None


def test_merge_gets_the_values_positionally_in_declared_order() -> None:
    calls: list[tuple[Any, ...]] = []

    def record(*values: Any) -> str:
        calls.append(values)
        return "-".join(map(str, values))

    class Ordered(Model):
        id = Field(hash_key=True)
        z = Field()
        a = Field(data_type=int)
        zipped = Composite("z", "a", "id", merge=record)

    obj = Ordered("k", z="last", a=1)
    assert obj.zipped == "last-1-k"
    assert calls[-1] == ("last", 1, "k")


def test_assigning_to_a_composite_has_no_effect() -> None:
    item = SocialMediaItem(type="facebook", id="12345", uid="ignored")
    item.uid = "ILikeThisIDBetter"
    assert item.uid == "facebook:12345"
    del item.uid
    assert item.uid == "facebook:12345"


def test_composites_of_composites() -> None:
    leg = new_leg()
    assert (leg.flight, leg.leg, leg.route) == ("UA:1545", "2013-01-01:1", "EWR:IAH")
    assert leg.slot == "EWR:IAH:2013-01-01"
    assert leg.trip == "UA:1545:2013-01-01:1"
    related = Leg.meta_.related_fields
    assert related["origin"] == {"origin", "route", "slot"}
    assert related["day"] == {"day", "leg", "slot", "trip"}
    assert related["route"] == {"route", "slot"}
    assert related["terminal"] == {"terminal", "gate"}


def test_a_composite_is_coerced_to_its_data_type() -> None:
    post = Post(likes=2, replies=1)
    assert post.score == 7 and post.ddb_dump_()["score"] == {"N": "7"}
    post.deleted = True
    assert post.score is None and "score" not in post.ddb_dump_()

    class Wrong(Model):
        id = Field(hash_key=True)
        twice = Composite("id", data_type=int, merge=lambda v: v * 2)

    with pytest.raises(TypeError, match=r"Wrong\.twice"):
        _ = Wrong("x").twice


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"c": Composite("id", "nope")}, r"Bad: composite field 'c' names unknown field 'nope'"),
        ({"c": Composite("id", "c")}, r"Bad: composite field 'c' cannot contain itself"),
        (
            {"c": Composite("id", "d"), "d": Composite("c")},
            r"Bad: composite fields form a cycle: c -> d -> c",
        ),
    ],
)
def test_bad_composites_fail_at_class_creation(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        type("Bad", (Model,), {"id": Field(hash_key=True), **body})


def test_bad_composite_arguments() -> None:
    with pytest.raises(ValueError, match="at least one field name"):
        Composite()
    with pytest.raises(ValueError, match="both a hash_key and a range_key"):
        Composite("a", hash_key=True, range_key=True)
    with pytest.raises(TypeError, match=r"Typo\.c: Composite takes the names"):

        class Typo(Model):
            id = Field(hash_key=True)
            c = Composite(id)  # type: ignore[arg-type]


def test_a_composite_key_cannot_be_given_positionally() -> None:
    with pytest.raises(TypeError, match=r"Leg\.flight is a composite key"):
        Leg("UA:1545")


def test_a_key_by_parts_names_what_is_missing() -> None:
    meta = Leg.meta_
    key = meta.pk_dict(scope={"carrier": "UA", "number": 1545, "day": DAY, "seq": 1})
    assert key == {"flight": "UA:1545", "leg": "2013-01-01:1"}
    assert meta.pk_dict(scope={"flight": "UA:1545", "day": DAY, "seq": 1}) == key
    with pytest.raises(ValueError, match=r"Leg\.flight: a key needs 'flight' or its parts "
                       r"\['carrier', 'number'\] \(missing \['number'\]\)"):
        meta.pk_dict(scope={"carrier": "UA", "day": DAY, "seq": 1})
    with pytest.raises(TypeError, match=r"Leg\.day: expected date"):
        meta.pk_dict(scope={"flight": "UA:1545", "day": "2013-01-01", "seq": 1})
    # a nested composite given by name counts as its parts
    assert Leg.slot.resolve(scope={"route": "EWR:IAH", "day": DAY}) == "EWR:IAH:2013-01-01"


# -- the spec's SocialMediaItem -------------------------------------------------------------
def test_social_media_item_stored_queried_and_got_by_pieces(tables: Engine) -> None:
    tables.save(
        [
            SocialMediaItem(userid="abc123", type="facebook", id="12345", text="fb"),
            SocialMediaItem(userid="abc123", type="twitter", id="12345", text="tw"),
        ]
    )
    raw = stored(tables, SocialMediaItem, userid="abc123", uid="facebook:12345")
    assert raw is not None and raw["uid"] == {"S": "facebook:12345"}
    assert raw["type"] == {"S": "facebook"} and raw["id"] == {"S": "12345"}
    fb_post = (
        tables.query(SocialMediaItem)
        .filter(userid="abc123", type="facebook", id="12345")
        .first()
    )
    assert fb_post is not None and fb_post.uid == "facebook:12345" and fb_post.text == "fb"
    got = tables.get(SocialMediaItem, userid="abc123", type="twitter", id="12345")
    assert got is not None and got.text == "tw"
    both = tables.get(
        SocialMediaItem,
        [{"userid": "abc123", "type": t, "id": "12345"} for t in ("twitter", "facebook")],
    )
    assert [item.text for item in both] == ["tw", "fb"]
    # a part alone is a filter on the table's hash key query, not a key
    assert tables(SocialMediaItem).filter(userid="abc123", type="twitter").one().text == "tw"
    with pytest.raises(ValueError, match=r"'uid' or its parts \['type', 'id'\] \(missing \['id'\]\)"):
        tables.get(SocialMediaItem, userid="abc123", type="twitter")
    assert tables.delete_key(SocialMediaItem, userid="abc123", type="facebook", id="12345") == 1
    assert [item.text for item in tables.scan(SocialMediaItem).all()] == ["tw"]


# -- the spec's score example ---------------------------------------------------------------
def test_score_moves_in_its_index_and_leaves_it_when_deleted(tables: Engine) -> None:
    tables.save(
        [
            Post(userid="u", type="tw", id="1", likes=10, replies=0),
            Post(userid="u", type="tw", id="2", likes=1, replies=1),
            Post(userid="u", type="fb", id="3", likes=0, replies=0),
        ]
    )

    def by_score() -> list[str]:
        query = tables(Post).filter(userid="u").index("score-index")
        return [post.uid for post in query.all(desc=True)]

    assert by_score() == ["tw:1", "tw:2", "fb:3"]
    post = tables.get(Post, userid="u", type="fb", id="3")
    assert post is not None
    post.likes = 50
    post.sync()
    assert post.score == 50
    assert by_score() == ["fb:3", "tw:1", "tw:2"]
    post.incr_(replies=2)
    post.sync()
    assert stored(tables, Post, userid="u", uid="fb:3")["score"] == {"N": "60"}  # type: ignore[index]
    post.deleted = True
    post.sync()
    assert post.score is None
    raw = stored(tables, Post, userid="u", uid="fb:3")
    assert raw is not None and "score" not in raw and raw["likes"] == {"N": "50"}
    assert by_score() == ["tw:1", "tw:2"]
    assert tables(Post).filter(userid="u", deleted=True).one().uid == "fb:3"
    post.deleted = False
    post.sync()
    assert by_score() == ["fb:3", "tw:1", "tw:2"]
    # querying a numeric composite: directly on the score, like any other field
    top = tables(Post).filter(Post.userid == "u", Post.score >= 11).all()
    assert sorted(p.uid for p in top) == ["fb:3"]


# -- composites as keys of the table and of indexes -----------------------------------------
def test_composite_hash_range_and_index_keys(tables: Engine) -> None:
    tables.save(
        [
            new_leg(),
            new_leg(seq=2, origin="IAH", dest="SFO", terminal="E", gate_no=2),
            new_leg(number=1714, origin="EWR", dest="IAH", day=date(2013, 1, 2), gate_no=72),
        ]
    )
    raw = stored(tables, Leg, flight="UA:1545", leg="2013-01-01:1")
    assert raw is not None
    assert (raw["route"], raw["slot"], raw["trip"], raw["gate"]) == (
        {"S": "EWR:IAH"}, {"S": "EWR:IAH:2013-01-01"}, {"S": "UA:1545:2013-01-01:1"}, {"S": "C:71"}
    )
    got = tables.get(Leg, carrier="UA", number=1545, day=DAY, seq=2)
    assert got is not None and got.dest == "SFO"
    # the table: hash key by its parts, range key by its parts or by a condition on it
    assert tables(Leg).filter(carrier="UA", number=1545).count() == 2
    (first,) = tables(Leg).filter(carrier="UA", number=1545, day=DAY, seq=1).all()
    assert first.origin == "EWR"
    later = tables(Leg).filter(Leg.leg > "2013-01-01:1", carrier="UA", number=1545).all()
    assert [leg.seq for leg in later] == [2]
    # a global index keyed by a composite, ranged by a composite of a composite
    on_route = tables(Leg).filter(origin="EWR", dest="IAH").all()
    assert sorted(leg.number for leg in on_route) == [1545, 1714]
    (on_day,) = tables(Leg).filter(origin="EWR", dest="IAH", day=date(2013, 1, 2)).all()
    assert on_day.number == 1714
    (by_slot,) = tables(Leg).filter(route="EWR:IAH", day=DAY).all()  # a nested part by name
    assert by_slot.number == 1545
    # a local index keyed by a composite
    (at_gate,) = tables(Leg).filter(carrier="UA", number=1545, terminal="E", gate_no=2).all()
    assert at_gate.seq == 2
    assert tables(Leg).filter(carrier="UA", number=1545).index("gate-index").count() == 2
    # a global index keyed by a composite of the two composite keys
    (trip,) = tables(Leg).filter(carrier="UA", number=1714, day=date(2013, 1, 2), seq=1).index(
        "trip-index"
    ).all()
    assert trip.leg == "2013-01-02:1"
    assert tables.delete_key(Leg, [{"carrier": "UA", "number": 1714, "day": date(2013, 1, 2), "seq": 1}]) == 1
    assert tables.scan(Leg).count() == 2


def test_a_query_missing_parts_of_a_composite_key_names_them(tables: Engine) -> None:
    with pytest.raises(ValueError, match=r"'flight' or its parts \['carrier', 'number'\] "
                       r"\(missing \['number'\]\)"):
        tables(Leg).filter(carrier="UA").all()
    with pytest.raises(ValueError, match=r"'route' or its parts \['origin', 'dest'\] "
                       r"\(missing \['dest'\]\)"):
        tables(Leg).filter(origin="EWR").all()
    with pytest.raises(ValueError, match=r"route-index.*'route' or its parts \['origin', 'dest'\]"):
        tables(Leg).filter(carrier="UA", number=1).index("route-index").all()


def test_a_custom_merge_keeps_its_parts_as_filters(tables: Engine) -> None:
    tables.save([Tally("x", a=1, b=2), Tally("y", a=2, b=1), Tally("z", a=3, b=0)])
    # all three have total 3: the parts decide which one is meant
    (found,) = tables(Tally).filter(a=2, b=1).index("total-index").all()
    assert found.id == "y"
    assert tables(Tally).filter(total=3).index("total-index").count() == 3
    with pytest.raises(ValueError, match=r"Tally\.total has a custom merge.*does not project \['a', 'b'\]"):
        tables(Tally).filter(a=2, b=1).index("total-keys").all()
    assert tables(Tally).filter(total=3).index("total-keys").count() == 3


# -- change tracking ------------------------------------------------------------------------
def test_changing_a_part_rewrites_every_dependent_composite(tables: Engine) -> None:
    tables.save(new_leg(tags=["a"]))
    leg = tables.get(Leg, carrier="UA", number=1545, day=DAY, seq=1)
    assert leg is not None

    def raw() -> dict[str, Any]:
        item = stored(tables, Leg, flight="UA:1545", leg="2013-01-01:1")
        assert item is not None
        return item

    leg.origin = "JFK"
    leg.sync()
    assert (raw()["route"], raw()["slot"]) == ({"S": "JFK:IAH"}, {"S": "JFK:IAH:2013-01-01"})
    assert tables(Leg).filter(origin="JFK", dest="IAH").one().seq == 1
    assert tables(Leg).filter(origin="EWR", dest="IAH").count() == 0
    leg.incr_(gate_no=3)
    leg.sync()
    assert raw()["gate"] == {"S": "C:74"} and raw()["gate_no"] == {"N": "74"}
    leg.tags.append("b")  # in place: the composite follows
    leg.sync()
    assert raw()["tagline"] == {"S": "UA:2"} and leg.tagline == "UA:2"
    del leg.dest
    leg.sync()
    item = raw()
    assert "dest" not in item and "route" not in item and "slot" not in item
    assert tables(Leg).filter(origin="JFK", dest="IAH").count() == 0
    assert (leg.route, leg.slot) == (None, None)


def test_parts_of_a_composite_key_cannot_change(tables: Engine) -> None:
    leg = new_leg()
    leg.carrier = "AA"  # not stored yet: fine
    tables.save(leg)
    for name, value in (("carrier", "UA"), ("number", 1), ("day", date(2014, 1, 1))):
        with pytest.raises(AttributeError, match=rf"Leg\.{name} is part of the primary key"):
            setattr(leg, name, value)
    with pytest.raises(AttributeError, match=r"Leg\.seq is part of the primary key"):
        leg.incr_(seq=1)
    with pytest.raises(TypeError, match=r"Leg\.route is a composite field"):
        leg.incr_(route=1)
    assert leg.flight == "AA:1545"


def test_a_changed_part_forces_the_conflict_check(tables: Engine, elsewhere: Engine) -> None:
    tables.default_conflict = "overwrite"  # syncs would not check; composites force it
    tables.save(Post(userid="u", type="tw", id="1", likes=1, replies=0))
    mine = tables.get(Post, userid="u", type="tw", id="1")
    theirs = elsewhere.get(Post, userid="u", type="tw", id="1")
    assert mine is not None and theirs is not None
    theirs.incr_(replies=1)
    theirs.sync()
    mine.likes = 2
    with pytest.raises(CheckFailed):
        mine.sync(raise_on_conflict=False)
    mine.refresh()
    theirs.incr_(likes=1)
    theirs.sync()
    mine.incr_(likes=1)  # incrementing a part is forced too
    with pytest.raises(CheckFailed):
        mine.sync()
    mine.refresh()
    mine.incr_(likes=1)
    mine.sync()
    assert (mine.likes, mine.replies, mine.score) == (3, 1, 8)
    assert stored(tables, Post, userid="u", uid="tw:1")["score"] == {"N": "8"}  # type: ignore[index]
    # deleting a part is a change of it: forced as well
    theirs.refresh()
    theirs.incr_(replies=1)
    theirs.sync()
    del mine.likes
    with pytest.raises(CheckFailed):
        mine.sync()


def test_a_new_objects_sync_does_not_fill_in_parts_under_a_composite(
    tables: Engine, elsewhere: Engine
) -> None:
    fresh = Counted("c")
    tables.sync(fresh)  # creates the item: the parts' defaults and the composite
    assert stored(tables, Counted, id="c") == {
        "id": {"S": "c"}, "kind": {"S": "plain"}, "n": {"N": "0"}, "label": {"S": "plain:0"}
    }
    other = elsewhere.get(Counted, id="c")
    assert other is not None
    other.incr_(n=5)
    other.sync()
    # a second new object would keep n (a default is only filled in) but rewrite the label
    # from its own n: the composite's parts are checked instead
    tables.default_conflict = "overwrite"  # the check is forced all the same
    again = Counted("c")
    with pytest.raises(CheckFailed):
        tables.sync(again)
    assert stored(tables, Counted, id="c")["label"] == {"S": "plain:5"}  # type: ignore[index]


# -- objects loaded from an index that did not project the parts ----------------------------
def test_keys_only_results_know_their_composite_keys(tables: Engine) -> None:
    tables.save(new_leg(tags=["a"], note="hello"))
    (partial,) = tables(Leg).filter(trip="UA:1545:2013-01-01:1").all()  # KEYS_ONLY index
    assert (partial.carrier, partial.number, partial.origin) == (None, None, None)
    assert (partial.flight, partial.leg, partial.trip) == ("UA:1545", "2013-01-01:1", "UA:1545:2013-01-01:1")
    assert partial == new_leg()
    assert partial.pk_dict_ == {"flight": {"S": "UA:1545"}, "leg": {"S": "2013-01-01:1"}}
    partial.refresh()
    assert (partial.carrier, partial.origin, partial.note) == ("UA", "EWR", "hello")
    assert partial.route == "EWR:IAH"
    (partial,) = tables(Leg).filter(trip="UA:1545:2013-01-01:1").all()
    partial.note = "changed"
    partial.sync()  # writes the note, keeps the key; loads the whole item
    assert (partial.note, partial.carrier, partial.slot) == ("changed", "UA", "EWR:IAH:2013-01-01")
    # parts given by their pieces on the same index
    (again,) = tables(Leg).filter(carrier="UA", number=1545, day=DAY, seq=1).index("trip-index").all()
    again.delete()
    assert tables.scan(Leg).count() == 0


def test_a_partial_object_cannot_write_a_composite_it_cannot_compute(tables: Engine) -> None:
    tables.save(new_leg())
    (partial,) = tables(Leg).filter(trip="UA:1545:2013-01-01:1").all()
    partial.origin = "JFK"  # route would be merged with a dest it never saw
    with pytest.raises(ValueError, match=r"Leg\.route depends on \['dest'\].*refresh\(\)"):
        partial.sync()
    raw = stored(tables, Leg, flight="UA:1545", leg="2013-01-01:1")
    assert raw is not None and raw["route"] == {"S": "EWR:IAH"} and raw["origin"] == {"S": "EWR"}
    partial.dest = "SFO"  # route could be computed now, but slot also needs the day
    with pytest.raises(ValueError, match=r"Leg\.slot depends on \['day'\]"):
        partial.sync()
    partial.refresh()
    partial.origin, partial.dest = "JFK", "SFO"
    partial.sync()
    assert (partial.route, partial.slot) == ("JFK:SFO", "JFK:SFO:2013-01-01")
    assert tables(Leg).filter(origin="JFK", dest="SFO").one().seq == 1


@pytest.mark.parametrize("index", ["score-index", "text-index"])
def test_a_partial_object_gives_the_stored_composite_without_calling_merge(
    tables: Engine, index: str
) -> None:
    tables.save(Scored("1", city="sf", text="old", likes=1, replies=1))
    partial = tables(Scored).filter(city="sf").index(index).first()
    assert (partial.likes, partial.replies, partial.score) == (None, None, 6)
    partial.text = "new"
    partial.sync()  # writes the text, leaves the score as stored
    raw = stored(tables, Scored, h="1")
    assert raw is not None and raw["text"] == {"S": "new"} and raw["score"] == {"N": "6"}
    assert (partial.likes, partial.replies, partial.score) == (1, 1, 6)


def test_a_composite_check_runs_before_the_write(tables: Engine) -> None:
    class Checked(Model):
        id = Field(hash_key=True)
        first = Field()
        last = Field()
        name = Composite("first", "last", check=lambda value: len(value) <= 9)

    tables.register(Checked)
    tables.create_schema()
    tables.save(Checked("1", first="Ada", last="King"))
    with pytest.raises(ValueError, match=r"Checked\.name: value 'Ada:Lovelace' failed its check"):
        tables.save(Checked("2", first="Ada", last="Lovelace"))
    assert [item.name for item in tables.scan(Checked).all()] == ["Ada:King"]


def test_a_composite_key_over_the_size_limit_is_refused_showing_its_value() -> None:
    leg = Leg(carrier="X" * 2100, number=1, day=date(2024, 1, 1), seq=1)
    with pytest.raises(ValueError, match=r"Leg\.flight: a partition \(hash\) key value is .*'XXXX"):
        leg.pk_dict_


class Scoreboard(Model):
    """Composite keys built from number parts: DynamoDB gives numbers back in its normal
    form, and the key computed after loading must be the one stored."""

    user = Field(hash_key=True)
    game = Field()
    points = Field(data_type=NUMBER)
    rk = Composite("game", "points", range_key=True)
    currency = Field()
    amount = Field(data_type=Decimal)
    price = Composite("currency", "amount")
    note = Field()


@pytest.mark.parametrize("points", [1.0, Decimal("2.50"), 3])
def test_a_composite_key_of_a_number_part_survives_a_round_trip(tables: Engine, points: Any) -> None:
    board = Scoreboard("u", game="chess", points=points, currency="EUR", amount=Decimal("1.50"))
    tables.save(board)
    loaded = tables.query(Scoreboard).filter(user="u").first()
    assert loaded is not None and loaded.rk == board.rk and loaded.price == board.price
    loaded.note = "hi"
    loaded.sync()
    assert len(tables.scan(Scoreboard).all()) == 1  # the same item, not a second one
    assert tables.query(Scoreboard).filter(user="u", game="chess", points=points).count() == 1
    loaded.delete()
    assert tables.scan(Scoreboard).all() == []


MODELS = (SocialMediaItem, Post, Leg, Tally, Counted, Scored, Scoreboard)  # the tables fixture creates these

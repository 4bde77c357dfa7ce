"""One way to make each row: the fixtures hand out tests/factories.py's functions."""
from __future__ import annotations

from tests import factories
from tests.conftest import beds_of, rooms_of


def test_the_fixtures_are_the_factories(make_user, make_resident, make_shelter):
    assert make_user is factories.make_user
    assert make_resident is factories.make_resident
    assert make_shelter is factories.make_shelter_of_rooms


def test_both_shapes_of_shelter_are_made_by_one_function(make_shelter, monkeypatch):
    made = []
    real = factories.build_shelter

    def spy(rooms, **kw):
        made.append((rooms, kw["isolation_rooms"]))
        return real(rooms, **kw)

    monkeypatch.setattr(factories, "build_shelter", spy)
    by_rooms = make_shelter(beds=5, beds_per_room=2, isolation_rooms=1, category="man")
    by_category, beds = factories.make_shelter(beds={"woman": 2, "child_cot": 1}, isolation_rooms=2)
    assert len(made) == 2
    assert [(b.room.name, b.label, b.category) for b in beds_of(by_rooms)] == [
        ("R1", "B1", "man"), ("R1", "B2", "man"), ("R2", "B1", "man"), ("R2", "B2", "man"), ("R3", "B1", "man")]
    assert [r.name for r in rooms_of(by_rooms)] == ["Iso1"]
    assert [(b.label, b.category) for b in beds] == [("wo1", "woman"), ("wo2", "woman"), ("ch1", "child_cot")]
    assert len(rooms_of(by_category)) == 2


def test_staff_made_with_their_shelters_do_not_join_later_ones(make_user, make_shelter):
    from shelter_app.shelters.services import shelter_ids_of

    a = make_shelter(beds=1)
    only_a = make_user("night", shelters=[a])
    everywhere = make_user("night")
    b, _beds = factories.make_shelter(beds={"woman": 1})
    assert shelter_ids_of(only_a) == [a.id]
    assert set(shelter_ids_of(everywhere)) == {a.id, b.id}

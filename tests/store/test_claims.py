"""Leases: claiming due work, orphans, renewing, releasing, the next due time, and no overlaps."""

from __future__ import annotations

import asyncio

from dirigent.store import Claim, Commit, Store
from dirigent.store.records import Lease
from tests.store.conftest import OpenTwin
from tests.store.support import LEASE, at, instance, item


def _view(claims: list[Claim]) -> list[tuple[str, bool, list[str]]]:
    return [(c.instance.id, c.orphaned, [i.key for i in c.due]) for c in claims]


async def test_claims_pending_instances_with_due_items(store: Store) -> None:
    await store.create_instance(
        instance("early", created=1),
        (
            item("early", "b", due=5),
            item("early", "a", due=5),
            item("early", "c", due=2),
            item("early", "later", due=50),
        ),
    )
    await store.create_instance(instance("future", created=0), (item("future", "t", due=11),))
    await store.create_instance(instance("idle", created=0), ())
    await store.create_instance(
        instance("ended", status="complete", created=0), (item("ended", "x"),)
    )
    await store.create_instance(instance("late", created=3), (item("late", "start", due=10),))

    claims = await store.claim("s1", at(10), at(40), 10)
    assert _view(claims) == [("early", False, ["c", "a", "b"]), ("late", False, ["start"])]
    assert claims[0].due[0] == item("early", "c", due=2)
    assert claims[0].instance == instance("early", created=1)


async def test_limit_takes_the_oldest_instances_first(store: Store) -> None:
    for n in range(5):
        await store.create_instance(instance(f"i{n}", created=10 - n), (item(f"i{n}", "start"),))
    first = await store.claim("s1", at(0), at(30), 2)
    assert [c.instance.id for c in first] == ["i4", "i3"]
    rest = await store.claim("s2", at(0), at(30), 10)
    assert [c.instance.id for c in rest] == ["i2", "i1", "i0"]
    assert await store.claim("s3", at(0), at(30), 10) == []


async def test_a_live_lease_keeps_others_out_but_not_its_owner(store: Store) -> None:
    await store.create_instance(instance("i1"), (item("i1", "start"),))
    assert _view(await store.claim("s1", at(0), at(30), 10)) == [("i1", False, ["start"])]
    assert await store.claim("s2", at(29), at(59), 10) == []
    assert await store.claim("s2", at(30), at(60), 10) == []  # runs out only after `until`
    # Its owner gets it again while items are due (e.g. after a restart with the same id).
    assert _view(await store.claim("s1", at(5), at(35), 10)) == [("i1", False, ["start"])]


async def test_an_instance_created_with_a_lease_is_its_owners_until_the_lease_runs_out(
    store: Store,
) -> None:
    await store.create_instance(instance("i1"), (item("i1", "start"),), lease=Lease("s1", at(30)))
    assert await store.claim("s2", at(29), at(59), 10) == []
    # Its owner commits without a claim: the step consumes the start and lets the lease go.
    await store.commit(Commit(instance=instance("i1"), removed=("start",), release=True), "s1")
    assert await store.claim("s2", at(1), at(31), 10) == []  # nothing due: nothing to take


async def test_a_created_lease_whose_owner_died_is_taken_over_with_its_start(store: Store) -> None:
    await store.create_instance(instance("i1"), (item("i1", "start"),), lease=Lease("s1", at(30)))
    assert await store.claim("s2", at(30), at(60), 10) == []
    assert _view(await store.claim("s2", at(31), at(61), 10)) == [("i1", True, ["start"])]


async def test_a_run_out_lease_is_taken_over_as_an_orphan(store: Store) -> None:
    await store.create_instance(instance("i1"), (item("i1", "start"),))
    await store.create_instance(instance("i2", created=1), (item("i2", "start"),))
    await store.claim("s1", at(0), at(30), 10)
    await store.commit(Commit(instance("i1"), removed=("start",)), "s1")  # nothing due any more

    claims = await store.claim("s2", at(31), at(61), 10)
    # Taken over even with nothing due: s1 may have died with calls in flight.
    assert _view(claims) == [("i1", True, []), ("i2", True, ["start"])]
    assert await store.claim("s1", at(32), at(62), 10) == []


async def test_its_own_run_out_lease_is_no_orphan(store: Store) -> None:
    await store.create_instance(instance("i1"), (item("i1", "start"),))
    await store.claim("s1", at(0), at(30), 10)
    assert _view(await store.claim("s1", at(100), at(130), 10)) == [("i1", False, ["start"])]
    await store.commit(Commit(instance("i1"), removed=("start",)), "s1")
    assert await store.claim("s1", at(200), at(230), 10) == []  # nothing due, not an orphan


async def test_renew_extends_every_lease_of_the_owner(store: Store) -> None:
    for name in ("i1", "i2", "other"):
        await store.create_instance(instance(name), (item(name, "start"),))
    await store.claim("s1", at(0), at(30), 2)
    await store.claim("s2", at(0), at(30), 10)
    await store.renew_leases("s1", at(100))
    # s2's lease ran out; s1's did not.
    assert _view(await store.claim("s3", at(50), at(80), 10)) == [("other", True, ["start"])]
    assert _view(await store.claim("s3", at(101), at(130), 10)) == [
        ("i1", True, ["start"]),
        ("i2", True, ["start"]),
        ("other", False, ["start"]),  # s3's own, still due
    ]


async def test_release_frees_every_lease_of_the_owner(store: Store) -> None:
    for name in ("i1", "i2", "other"):
        await store.create_instance(instance(name), (item(name, "start"),))
    await store.claim("s1", at(0), at(30), 2)
    await store.claim("s2", at(0), at(30), 10)
    await store.release_leases("s1")
    assert _view(await store.claim("s3", at(1), at(31), 10)) == [
        ("i1", False, ["start"]),
        ("i2", False, ["start"]),
    ]


async def test_next_due(store: Store) -> None:
    assert await store.next_due("s1", at(0)) is None
    await store.create_instance(
        instance("mine"), (item("mine", "start"), item("mine", "t", due=50))
    )
    await store.create_instance(instance("theirs", created=1), (item("theirs", "start"),))
    await store.create_instance(instance("free", created=2), (item("free", "t", due=40),))
    await store.create_instance(instance("ended", status="complete"), (item("ended", "t", due=1),))
    await store.claim("s1", at(0), at(30), 1)  # mine
    await store.claim("s2", at(0), at(30), 1)  # theirs
    await store.commit(Commit(instance("mine"), removed=("start",)), "s1")

    assert await store.next_due("s1", at(10)) == at(40)  # free's; theirs is held by s2
    assert await store.next_due("s2", at(10)) == at(0)  # its own start is still due
    assert await store.next_due("s3", at(10)) == at(40)
    assert await store.next_due("s3", at(31)) == at(0)  # both leases ran out
    await store.add_inbox((item("free", "t", due=45),))
    assert await store.next_due("s1", at(10)) == at(45)
    await store.commit(Commit(instance("mine", status="complete")), "s1")
    assert await store.next_due("s1", at(10)) == at(45)


async def test_concurrent_claimers_never_share_an_instance(
    store: Store, open_twin: OpenTwin
) -> None:
    ids = [f"i{n:02d}" for n in range(50)]
    for n, instance_id in enumerate(ids):
        await store.create_instance(instance(instance_id, created=n), (item(instance_id, "start"),))
    servers = [await open_twin(), await open_twin()]
    taken: dict[str, list[str]] = {"s1": [], "s2": []}

    async def claim_all(owner: str, server: Store) -> None:
        while True:
            claims = await server.claim(owner, at(1), at(1) + LEASE, 3)
            if not claims:
                return
            for claim in claims:
                taken[owner].append(claim.instance.id)
                await server.commit(Commit(claim.instance, removed=("start",)), owner)

    async with asyncio.TaskGroup() as group:  # a failure stops the other claimer too
        group.create_task(claim_all("s1", servers[0]))
        group.create_task(claim_all("s2", servers[1]))
    assert not set(taken["s1"]) & set(taken["s2"])
    assert sorted(taken["s1"] + taken["s2"]) == ids
    assert len(taken["s1"]) + len(taken["s2"]) == 50  # nobody got one twice

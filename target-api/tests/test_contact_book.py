"""The contact book answers from memory, yet every process sees every write: the workers
of one Target API share the database, each with its own memory."""

from __future__ import annotations

from conftest import ALICE, BOB, SEED

from target_api.contacts import ContactBook

ZOE = {"name": "Zoe Zhang", "email": "zoe@example.com"}


def test_a_contact_written_by_one_process_is_listed_by_another_that_had_read_before(tmp_path):
    database = tmp_path / "contacts.sqlite3"
    first, second = ContactBook(database, SEED), ContactBook(database, SEED)
    before = second.of(ALICE)  # the second one has its contacts in memory now
    first.add(ALICE, ZOE["name"], ZOE["email"])
    assert second.of(ALICE) == [*before, ZOE]
    assert first.of(ALICE) == [*before, ZOE]


def test_a_contact_written_through_survives_a_restart(tmp_path):
    database = tmp_path / "contacts.sqlite3"
    book = ContactBook(database, SEED)
    seeded = book.of(ALICE)
    book.add(ALICE, ZOE["name"], ZOE["email"])
    restarted = ContactBook(database, SEED)
    assert restarted.of(ALICE) == [*seeded, ZOE]
    assert restarted.of(BOB) == book.of(BOB)


def test_changing_an_answer_does_not_change_what_is_held(tmp_path):
    book = ContactBook(tmp_path / "contacts.sqlite3", SEED)
    book.of(ALICE)[0]["name"] = "changed"
    book.of(ALICE).append(ZOE)
    assert ZOE not in book.of(ALICE)
    assert book.of(ALICE)[0]["name"] != "changed"

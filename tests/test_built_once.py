"""sql.built_once and sql.among_parameter, on both databases: a statement is built once a
dialect and key, and its values come at each execution, not from the first one."""
import pytest
import sqlalchemy as sa

from optintel.extensions import db
from optintel.models import OptOutList
from optintel.sql import among_parameter, built_once
from tests.conftest import database_of_kind, make_config


@pytest.fixture(params=["sqlite", "postgresql"])
def app_config(request, redis_server):
    """The suite's database when it is of that kind, else one of that kind for these tests."""
    return make_config(database_of_kind(request, "built_once.db"), redis_server.url)


def test_a_statement_is_built_once_a_key_and_takes_its_values_at_each_execution(app, make_list):
    lists = [make_list() for _ in range(4)]
    builds = []

    @built_once
    def names_among(column_name):
        builds.append(column_name)
        table = OptOutList.__table__
        return (sa.select(table.c.id, table.c[column_name])
                .where(among_parameter(table.c.id, "ids")).order_by(table.c.id))

    def names(ids):
        return db.session.execute(names_among("name"), {"ids": ids}).all()

    assert names([lists[0].id, lists[2].id]) == [(lists[0].id, lists[0].name),
                                                 (lists[2].id, lists[2].name)]
    assert names([lists[3].id]) == [(lists[3].id, lists[3].name)]
    assert names([]) == []
    assert names_among("name") is names_among("name")
    assert builds == ["name"]
    assert db.session.execute(names_among("id"), {"ids": [lists[1].id]}).all() \
        == [(lists[1].id, lists[1].id)]
    assert builds == ["name", "id"]

"""`flask lists`: opt-out lists from the terminal."""
import click
from flask import current_app
from flask.cli import AppGroup

from ..contact_changes import add_contacts, origin_for
from ..extensions import db
from ..ids import LARGEST
from ..models import ContactSource, OptOutList
from ..validation import Invalid
from . import InvalidInput

lists = AppGroup("lists", help="Opt-out lists.")
ID = click.IntRange(0, LARGEST)


def _batches(lines, size):
    """The non-blank lines as (line number, value), `size` at a time."""
    batch = []
    for number, line in enumerate(lines, 1):
        value = line.strip()
        if value:
            batch.append((number, value))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _invalid_lines(batch, invalid):
    """(line number, value, reason) of each invalid line of a batch.

    add_contacts reports invalid values in the order they came, and a value is invalid wherever it
    appears, so walking both in step pairs each report with its line."""
    reports = iter(invalid)
    report = next(reports, None)
    for number, value in batch:
        if report is not None and report["value"] == value:
            yield number, value, report["error"]
            report = next(reports, None)


@lists.command("import")
@click.argument("list_id", type=ID)
@click.argument("file", type=click.File(encoding="utf-8"))
@click.option("--mailer-id", type=ID, help="The mailer the contacts came through.")
@click.option("--campaign-id", type=ID, help="The campaign the contacts came through.")
def import_file(list_id, file, mailer_id, campaign_id):
    """Add the values of FILE (one a line; '-' reads stdin) to the Single opt-out list LIST_ID."""
    opt_out_list = db.session.get(OptOutList, list_id)
    if opt_out_list is None:
        raise click.ClickException(f"No opt-out list has the id {list_id}.")
    if opt_out_list.is_grouped:
        raise click.ClickException(f"{opt_out_list.name} is a Grouped list and holds no contacts "
                                   f"itself; import into one of its lists.")
    try:
        origin = origin_for(opt_out_list, ContactSource.UPLOAD, mailer_id, campaign_id)
    except Invalid as invalid:
        raise InvalidInput(invalid) from None
    added = existing = invalid = 0
    for batch in _batches(file, current_app.config["OPTINTEL_MAX_BATCH"]):
        outcome = add_contacts(opt_out_list, [value for _, value in batch], origin)
        added, existing, invalid = (added + outcome.changed, existing + outcome.unchanged,
                                    invalid + len(outcome.invalid))
        for number, value, reason in _invalid_lines(batch, outcome.invalid):
            click.echo(f"line {number}: {value}: {reason}")
    click.echo(f"Added: {added}\nExisting: {existing}\nInvalid: {invalid}")

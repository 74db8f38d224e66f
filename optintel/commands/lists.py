"""`flask lists`: opt-out lists from the terminal."""
import click
from flask.cli import AppGroup

from .. import imports
from ..extensions import db
from ..ids import LARGEST
from ..models import ImportMode, OptOutList
from ..validation import Invalid
from . import InvalidInput

lists = AppGroup("lists", help="Opt-out lists.")
ID = click.IntRange(0, LARGEST)


@lists.command("import")
@click.argument("list_id", type=ID)
@click.argument("file", type=click.File("rb"))
@click.option("--mailer-id", type=ID, help="The mailer the contacts came through.")
@click.option("--campaign-id", type=ID, help="The campaign the contacts came through.")
@click.option("--column", help="CSV: the header's name or the number of the column to read.")
@click.option("--delete", "delete", is_flag=True, help="Delete the file's values instead.")
def import_file(list_id, file, mailer_id, campaign_id, column, delete):
    """Add the values of FILE (TXT one a line, or CSV; '-' reads stdin) to the Single opt-out
    list LIST_ID, as an upload does, in this process."""
    opt_out_list = db.session.get(OptOutList, list_id)
    if opt_out_list is None:
        raise click.ClickException(f"No opt-out list has the id {list_id}.")
    if opt_out_list.is_grouped:
        raise click.ClickException(f"{opt_out_list.name} is a Grouped list and holds no contacts "
                                   f"itself; import into one of its lists.")
    try:
        contact_import = imports.start(
            opt_out_list, file, file_name=getattr(file, "name", ""), column=column,
            mode=ImportMode.DELETE if delete else ImportMode.ADD, mailer_id=mailer_id,
            campaign_id=campaign_id, hand_off=False)
    except Invalid as invalid:
        raise InvalidInput(invalid) from None
    imports.running.run(contact_import.id, slice_seconds=None)
    db.session.refresh(contact_import)
    for number, value, reason in imports.invalid_lines(contact_import):
        click.echo(f"line {number}: {value}: {reason}")
    counts = ((("Deleted", contact_import.deleted), ("Missing", contact_import.missing)) if delete
              else (("Added", contact_import.added), ("Existing", contact_import.existing)))
    for label, count in (*counts, ("Invalid", contact_import.invalid)):
        click.echo(f"{label}: {count}")
    if contact_import.error:
        raise click.ClickException(contact_import.error)

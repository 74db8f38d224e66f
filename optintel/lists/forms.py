"""Forms of the opt-out list pages. They only carry what was typed: every rule is checked by
catalog.apply_list and contact_changes, whose messages are shown beside these fields."""
import sqlalchemy as sa
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField

from .. import access
from ..extensions import db
from ..ids import to_optional_id
from ..models import (Campaign, Channel, ImportMode, ListKind, Mailer, OptOutList, Role, Status,
                      Storage, User)


def _choices(enum):
    return [(member.value, member.label) for member in enum]


class ListForm(FlaskForm):
    """Settings of an opt-out list; shows only the fields this user may set on this list."""

    name = StringField("Name")
    status = SelectField("Status", choices=_choices(Status), validate_choice=False)
    type = SelectField("Type", choices=_choices(ListKind), validate_choice=False,
                       description="Fixed once the list exists. A Grouped list is a named set of "
                                   "Single lists and holds no contacts itself.")
    storage = SelectField("Storage", choices=_choices(Storage), validate_choice=False,
                          description="Fixed once the list exists. With MD5 only, the plain value "
                                      "is never stored.")
    owner_id = SelectField("Owner", validate_choice=False)
    suppressed_domains = TextAreaField("Suppressed domains", description="One domain a line.")
    members = SelectMultipleField("Members", validate_choice=False,
                                  description="Grouped lists only: Single lists of this channel.")

    def __init__(self, opt_out_list, user, **kwargs):
        super().__init__(data=_current_settings(opt_out_list), **kwargs)
        if opt_out_list.id is not None:
            del self.type, self.storage
        if opt_out_list.channel != Channel.EMAIL:
            del self.suppressed_domains
        if not user.is_admin or (opt_out_list.id is not None and not opt_out_list.is_grouped):
            del self.members
        if not user.is_admin:
            del self.owner_id
        if "owner_id" in self:
            self.owner_id.choices = [("", "— nobody —")] + [
                (str(u.id), f"{u.display_name} ({u.role.label})")
                for u in _users_with_roles(Role.LIST_OWNER, Role.GLOBAL_ADMIN)]
        if "members" in self:
            self.members.choices = [(str(m.id), m.name) for m in db.session.scalars(
                sa.select(OptOutList).where(OptOutList.channel == opt_out_list.channel,
                                            OptOutList.kind == ListKind.SINGLE)
                .order_by(OptOutList.name))]

    def changes(self):
        """The catalog.apply_list arguments of the fields shown."""
        renamed = {"type": "kind", "members": "member_ids"}
        return {renamed.get(name, name): value for name, value in self.data.items()
                if name != "csrf_token"}


def _current_settings(opt_out_list):
    return {
        "name": opt_out_list.name,
        "status": (opt_out_list.status or Status.ACTIVE).value,
        "type": (opt_out_list.kind or ListKind.SINGLE).value,
        "storage": (opt_out_list.storage or Storage.PLAIN_MD5).value,
        "owner_id": str(opt_out_list.owner_id or ""),
        "suppressed_domains": opt_out_list.suppressed_domains,
        "members": [str(member.id) for member in opt_out_list.members],
    }


def _users_with_roles(*roles):
    return db.session.scalars(sa.select(User).where(User.role.in_(roles)).order_by(User.email))


def attribution_choices(opt_out_list, user):
    """(mailer choices, campaign choices): whom a contact of this list may be attributed to, for
    this user; read once a request and given to each form of the Contacts tab."""
    mailers = access.attributable_mailers_query(user, opt_out_list)
    campaigns = access.campaigns_using_list_query(opt_out_list)
    return ([("", "—")] + [(m.id, f"{m.nickname} ({m.company_name})")
                           for m in db.session.scalars(mailers.order_by(Mailer.nickname))],
            [("", "—")] + [(c.id, c.name)
                           for c in db.session.scalars(campaigns.order_by(Campaign.name))])


class AddContactForm(FlaskForm):
    """One contact to add by hand, with the mailer and campaign it came through, if known."""

    value = StringField("Contact")
    mailer_id = SelectField("Mailer", coerce=to_optional_id, validate_choice=False)
    campaign_id = SelectField("Campaign", coerce=to_optional_id, validate_choice=False)

    def __init__(self, opt_out_list, choices, **kwargs):
        super().__init__(**kwargs)
        self.value.label.text = ("Email address" if opt_out_list.channel == Channel.EMAIL
                                 else "Phone number")
        self.mailer_id.choices, self.campaign_id.choices = choices


class UploadForm(FlaskForm):
    """A file of values to add to or delete from the list (imports.start checks the rest)."""

    file = FileField("File", description="TXT (one value a line) or CSV; UTF-8, UTF-16 or "
                                         "Latin-1.")
    mode = SelectField("Mode", choices=[(ImportMode.ADD.value, "Add the values"),
                                        (ImportMode.DELETE.value, "Delete the values")],
                       validate_choice=False)
    column = StringField("CSV column", description="Header name or number; found by itself "
                                                   "when left empty.")
    mailer_id = SelectField("Mailer", validate_choice=False)
    campaign_id = SelectField("Campaign", validate_choice=False)

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.mailer_id.choices, self.campaign_id.choices = choices

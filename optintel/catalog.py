"""Changing mailers, opt-out lists, campaigns, users and API keys with the domain's rules, for
pages, API and CLI alike.

Each function validates everything first, raises Invalid with messages by field, and only then
changes the object; the caller commits."""
import sqlalchemy as sa

from . import secrets
from .actions.credentials import MASK
from .extensions import db
from .ids import MAX_IDS, as_id, as_ids
from .models import (Channel, Event, ListKind, Mailer, OptOutList, Role, Status,
                     Storage, User, campaign_lists, list_members)
from .normalize import InvalidContact, normalize_domain, normalize_email
from .validation import Collector, some_of

_UNSET = object()


def _text(collector, field, value, required=True, limit=200):
    value = (value or "").strip()
    if required and not value:
        collector.add(field, "This field is required.")
    elif len(value) > limit:
        collector.add(field, f"At most {limit} characters.")
    return value


def _status(collector, value):
    try:
        return Status(value)
    except ValueError:
        collector.add("status", "Choose active or disabled.")


def _user_with_role(collector, field, user_id, roles, what):
    if user_id in (None, ""):
        return None
    user_id = as_id(user_id)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or user.role not in roles:
        collector.add(field, f"Choose a {what}.")
    return user


def apply_mailer(mailer, *, company_name, nickname, email, web_address="", notes="",
                 status=Status.ACTIVE):
    """Validate and set a mailer's fields; nickname is unique."""
    errors = Collector()
    company_name = _text(errors, "company_name", company_name)
    nickname = _text(errors, "nickname", nickname, limit=100)
    try:
        email = normalize_email(email)
    except InvalidContact as exc:
        errors.add("email", str(exc))
    web_address = _text(errors, "web_address", web_address, required=False, limit=500)
    if web_address and not web_address.startswith(("http://", "https://")):
        errors.add("web_address", "Start the web address with http:// or https://.")
    status = _status(errors, status)
    if nickname and db.session.scalar(sa.select(Mailer.id).where(
            Mailer.nickname == nickname, Mailer.id != mailer.id if mailer.id else sa.true())):
        errors.add("nickname", "Another mailer has this nickname.")
    errors.raise_if_any()
    mailer.company_name, mailer.nickname, mailer.email = company_name, nickname, email
    mailer.web_address, mailer.notes, mailer.status = web_address, (notes or "").strip(), status
    return mailer


def apply_list(opt_out_list, *, name, status=Status.ACTIVE, kind=_UNSET, storage=_UNSET,
               owner_id=_UNSET, suppressed_domains=_UNSET, member_ids=_UNSET):
    """Validate and set a list's fields. Type and storage are fixed once the list exists;
    a Grouped list holds Single lists of its own channel only."""
    errors = Collector()
    name = _text(errors, "name", name)
    status = _status(errors, status)
    is_new = opt_out_list.id is None
    if kind is not _UNSET:
        try:
            kind = ListKind(kind)
        except ValueError:
            errors.add("type", "Choose single or grouped.")
        if not is_new and kind != opt_out_list.kind:
            errors.add("type", "The type of an existing list cannot change.")
    if storage is not _UNSET:
        try:
            storage = Storage(storage)
        except ValueError:
            errors.add("storage", "Choose plain_md5 or md5.")
        if not is_new and storage != opt_out_list.storage:
            errors.add("storage", "The storage of an existing list cannot change.")
    owner = _UNSET
    if owner_id is not _UNSET:
        owner = _user_with_role(errors, "owner_id", owner_id,
                                (Role.LIST_OWNER, Role.GLOBAL_ADMIN), "List Owner or Global Admin")
    domains = _UNSET
    if suppressed_domains is not _UNSET:
        domains = _domains(errors, opt_out_list.channel, suppressed_domains)
    members = _UNSET
    effective_kind = kind if kind is not _UNSET else opt_out_list.kind
    if member_ids is not _UNSET:
        members = _members(errors, opt_out_list, effective_kind, member_ids)
    errors.raise_if_any()
    opt_out_list.name, opt_out_list.status = name, status
    if is_new:
        if kind is not _UNSET:
            opt_out_list.kind = kind
        if storage is not _UNSET:
            opt_out_list.storage = storage
    if owner is not _UNSET:
        opt_out_list.owner = owner
    if domains is not _UNSET:
        opt_out_list.suppressed_domains = "\n".join(domains)
    if members is not _UNSET:
        opt_out_list.members = members
    return opt_out_list


def _domains(errors, channel, raw):
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    domains = []
    for item in raw or []:
        try:
            domain = normalize_domain(item)
        except InvalidContact as exc:
            errors.add("suppressed_domains", f"{item}: {exc}")
            continue
        if domain not in domains:
            domains.append(domain)
    if domains and channel != Channel.EMAIL:
        errors.add("suppressed_domains", "Only email lists have suppressed domains.")
    return domains


def _members(errors, opt_out_list, kind, member_ids):
    ids = _ids(errors, "members", member_ids, "list", "Members are list ids.")
    if kind != ListKind.GROUPED:
        if ids:
            errors.add("members", "Only a Grouped list has members.")
        return []
    found = _rows(errors, "members", OptOutList, ids, "list")
    for member in found:
        if opt_out_list.id is not None and member.id == opt_out_list.id:
            errors.add("members", "A Grouped list cannot contain itself.")
        elif member.channel != opt_out_list.channel:
            errors.add("members", f"{member.name} is a list of another channel.")
        elif member.is_grouped:
            errors.add("members", f"{member.name} is a Grouped list; members are Single lists.")
    return sorted(found, key=lambda m: m.name)


def apply_campaign(campaign, *, name, status=Status.ACTIVE, manager_id=_UNSET,
                   mailer_ids=_UNSET, list_ids=_UNSET, sms_auth_token=_UNSET):
    """Validate and set a campaign's fields; its lists are opt-out lists of its channel. An SMS
    campaign's Twilio auth token is stored encrypted: MASK keeps it, empty removes it."""
    errors = Collector()
    name = _text(errors, "name", name)
    status = _status(errors, status)
    manager = _UNSET
    if manager_id is not _UNSET:
        manager = _user_with_role(errors, "manager_id", manager_id,
                                  (Role.CAMPAIGN_MANAGER, Role.GLOBAL_ADMIN),
                                  "Campaign Manager or Global Admin")
    mailers = _UNSET
    if mailer_ids is not _UNSET:
        mailers = _by_ids(errors, "mailer_ids", Mailer, mailer_ids, "mailer")
    lists = _UNSET
    if list_ids is not _UNSET:
        lists = _by_ids(errors, "list_ids", OptOutList, list_ids, "list")
        for opt_out_list in lists:
            if opt_out_list.channel != campaign.channel:
                errors.add("list_ids", f"{opt_out_list.name} is not an opt-out list of this "
                                       f"campaign's channel.")
    if sms_auth_token is not _UNSET:
        sms_auth_token = _sms_auth_token(errors, campaign, sms_auth_token)
    errors.raise_if_any()
    campaign.name, campaign.status = name, status
    if manager is not _UNSET:
        campaign.manager = manager
    if mailers is not _UNSET:
        campaign.mailers = mailers
    if lists is not _UNSET:
        campaign.opt_out_lists = lists
    if sms_auth_token is not _UNSET:
        campaign.sms_auth_token_encrypted = secrets.encrypt(sms_auth_token)
    return campaign


SMS_AUTH_TOKEN_LIMIT = 200


def _sms_auth_token(errors, campaign, value):
    """The token to store ("" for none), or _UNSET for the mask, which keeps the stored one."""
    if value == MASK:
        return _UNSET
    value = (value or "").strip()
    if value and campaign.channel != Channel.PHONE:
        errors.add("sms_auth_token", "Only SMS campaigns have a Twilio auth token.")
    elif len(value) > SMS_AUTH_TOKEN_LIMIT:
        errors.add("sms_auth_token", f"At most {SMS_AUTH_TOKEN_LIMIT} characters.")
    return value


def _by_ids(errors, field, model, ids, what):
    return _rows(errors, field, model, _ids(errors, field, ids, what), what)


def _ids(errors, field, ids, what, not_ids=None):
    """The ids given, or [] with the field's error when they are no ids or too many."""
    found = as_ids(ids)
    if found is None:
        errors.add(field, not_ids or f"Give {what} ids.")
        return []
    if len(found) > MAX_IDS:
        errors.add(field, f"At most {MAX_IDS:,} {what}s.")
        return []
    return found


def _rows(errors, field, model, ids, what):
    found = db.session.scalars(sa.select(model).where(model.id.in_(ids))).all() if ids else []
    missing = set(ids) - {row.id for row in found}
    if missing:
        errors.add(field, f"No such {what}: {some_of(sorted(missing))}.")
    return found


PASSWORD_MIN_LENGTH = 10


def apply_user(user, *, name, role, active=True, email=_UNSET, password="", acting_user=None):
    """Validate and set a user's fields: a unique lower-cased email, a password of at least ten
    characters (required for a new user, kept when empty), and no one changing their own role
    or deactivating themselves."""
    errors = Collector()
    if email is not _UNSET:
        try:
            email = normalize_email(email)
        except InvalidContact as exc:
            errors.add("email", str(exc))
        else:
            if db.session.scalar(sa.select(User.id).where(
                    User.email == email, User.id != user.id if user.id else sa.true())):
                errors.add("email", "Another user has this email.")
    name = _text(errors, "name", name, required=False, limit=120)
    try:
        role = Role(role)
    except ValueError:
        errors.add("role", "Choose a role.")
    if password and len(password) < PASSWORD_MIN_LENGTH:
        errors.add("password", f"At least {PASSWORD_MIN_LENGTH} characters.")
    elif not password and user.password_hash is None:
        errors.add("password", "This field is required.")
    if acting_user is not None and acting_user.id == user.id:
        if role != user.role:
            errors.add("role", "You cannot change your own role; ask another Global Admin.")
        if not active:
            errors.add("active", "You cannot deactivate yourself; ask another Global Admin.")
    errors.raise_if_any()
    if email is not _UNSET:
        user.email = email
    user.name, user.role, user.active = name, role, bool(active)
    if password:
        user.set_password(password)
    return user


API_KEY_NAME_LIMIT = 120


def apply_api_key(row, *, user_id, name=""):
    """Validate and set a new API key: the active user it acts as, and what it is for. The key
    in clear is left on `row.plain_key`, to be shown once; only its hash is stored."""
    errors = Collector()
    user_id = as_id(user_id)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        errors.add("user_id", "Choose an active user.")
    name = _text(errors, "name", name, required=False, limit=API_KEY_NAME_LIMIT)
    errors.raise_if_any()
    row.user, row.name = user, name
    row.plain_key = row.set_new_key()
    return row


def list_in_use(opt_out_list):
    """Why a list cannot be deleted (it holds contacts or has history), or None."""
    if opt_out_list.contact_count:
        return "The list still holds contacts; delete them first or disable the list."
    if db.session.scalar(sa.select(Event.id).where(Event.list_id == opt_out_list.id).limit(1)):
        return "The list has recorded events, which are kept; disable the list instead."
    if db.session.scalar(sa.select(sa.func.count()).select_from(list_members)
                         .where(list_members.c.member_id == opt_out_list.id)):
        return "The list is a member of a Grouped list; remove it from the group first."
    if db.session.scalar(sa.select(sa.func.count()).select_from(campaign_lists)
                         .where(campaign_lists.c.list_id == opt_out_list.id)):
        return "A campaign is scrubbed against this list; remove it from the campaign first."
    return None


def mailer_in_use(mailer):
    """Why a mailer cannot be deleted (it has history), or None."""
    if db.session.scalar(sa.select(Event.id).where(Event.mailer_id == mailer.id).limit(1)):
        return "The mailer has recorded events, which are kept; disable it instead."
    return None


def campaign_in_use(campaign):
    """Why a campaign cannot be deleted (it has history), or None."""
    if db.session.scalar(sa.select(Event.id).where(Event.campaign_id == campaign.id).limit(1)):
        return "The campaign has recorded events, which are kept; disable it instead."
    return None

"""The campaign form. It only carries what was typed: catalog.apply_campaign checks every rule and
its messages are shown beside these fields."""
import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField

from ..access import ADMIN_ONLY_CAMPAIGN_FIELDS
from ..extensions import db
from ..models import Channel, Mailer, OptOutList, Role, Status, User

SMS_ONLY_FIELDS = ("sms_auth_token", "clear_sms_auth_token")


class CampaignForm(FlaskForm):
    """Settings of an email or SMS campaign; only Global Admins set the manager and the lists."""

    name = StringField("Name")
    status = SelectField("Status", choices=[(s.value, s.label) for s in Status],
                         validate_choice=False)
    manager_id = SelectField("Manager", validate_choice=False)
    mailer_ids = SelectMultipleField("Mailers", validate_choice=False)
    list_ids = SelectMultipleField("Opt-out lists", validate_choice=False,
                                   description="The lists this campaign is scrubbed against.")
    sms_auth_token = PasswordField("Twilio Auth Token")
    clear_sms_auth_token = BooleanField("Clear the stored auth token")

    def __init__(self, campaign, user, **kwargs):
        super().__init__(data={
            "name": campaign.name,
            "status": (campaign.status or Status.ACTIVE).value,
            "manager_id": str(campaign.manager_id or ""),
            "mailer_ids": [str(m.id) for m in campaign.mailers],
            "list_ids": [str(lst.id) for lst in campaign.opt_out_lists],
        }, **kwargs)
        self.mailer_ids.choices = [
            (str(m.id), f"{m.nickname} ({m.company_name})")
            for m in db.session.scalars(sa.select(Mailer).order_by(Mailer.nickname))]
        if campaign.channel != Channel.PHONE:
            for name in SMS_ONLY_FIELDS:
                delattr(self, name)
        if not user.is_admin:
            for name in ADMIN_ONLY_CAMPAIGN_FIELDS:
                delattr(self, name)
            return
        self.manager_id.choices = [("", "— nobody —")] + [
            (str(u.id), f"{u.display_name} ({u.role.label})") for u in db.session.scalars(
                sa.select(User).where(User.role.in_((Role.CAMPAIGN_MANAGER, Role.GLOBAL_ADMIN)))
                .order_by(User.email))]
        self.list_ids.choices = [
            (str(lst.id), lst.name) for lst in db.session.scalars(
                sa.select(OptOutList).where(OptOutList.channel == campaign.channel)
                .order_by(OptOutList.name))]

    def changes(self):
        """The catalog.apply_campaign arguments of the fields shown; an auth token left empty
        keeps the stored one, unless it is cleared."""
        changes = {name: value for name, value in self.data.items()
                   if name not in ("csrf_token", *SMS_ONLY_FIELDS)}
        if "sms_auth_token" in self:
            if self.sms_auth_token.data:
                changes["sms_auth_token"] = self.sms_auth_token.data
            elif self.clear_sms_auth_token.data:
                changes["sms_auth_token"] = ""
        return changes

from flask import flash, redirect, render_template, url_for
from flask_login import login_required

from ..access import admin_only
from ..deliveries.settings import apply_delivery_settings
from ..extensions import db
from ..models import Level, ProjectSettings
from ..tracking.panel import panel_context
from ..validation import Invalid
from . import bp
from .forms import ProjectSettingsForm


def _saved(settings, form):
    """Apply the form, the delivery fields through their domain rules, and commit; False, with
    the errors beside the fields and nothing changed, if invalid."""
    try:
        apply_delivery_settings(settings, **form.delivery_values())
    except Invalid as invalid:
        invalid.show_on(form)
        return False
    form.save_to(settings)
    db.session.commit()
    flash("Project settings saved.")
    return True


@bp.route("/")
@login_required
@admin_only
def index():
    """Project Settings open on Opt-Intel > Settings."""
    return redirect(url_for(".opt_intel_settings"))


@bp.route("/opt-intel/settings", methods=["GET", "POST"])
@login_required
@admin_only
def opt_intel_settings():
    """Opt-Intel > Settings: default phone region, default SMTP connection, retries, targets."""
    settings = ProjectSettings.get()
    form = ProjectSettingsForm(obj=settings)
    if form.validate_on_submit() and _saved(settings, form):
        return redirect(url_for(".opt_intel_settings"))
    return render_template("settings/opt_intel_settings.html", form=form, settings=settings)


@bp.route("/opt-intel/tracking")
@login_required
@admin_only
def opt_intel_tracking():
    """Opt-Intel > Tracking: the Project-level tracking rules."""
    return render_template("settings/opt_intel_tracking.html", **panel_context(Level.PROJECT, None))

from flask import flash, redirect, render_template, url_for
from flask_login import login_required

from ..access import admin_only
from ..extensions import db
from ..models import Level, ProjectSettings
from ..tracking.panel import panel_context
from . import bp
from .forms import ProjectSettingsForm


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
    """Opt-Intel > Settings: default phone region and default SMTP connection."""
    settings = ProjectSettings.get()
    form = ProjectSettingsForm(obj=settings)
    if form.validate_on_submit():
        form.save_to(settings)
        db.session.commit()
        flash("Project settings saved.")
        return redirect(url_for(".opt_intel_settings"))
    return render_template("settings/opt_intel_settings.html", form=form, settings=settings)


@bp.route("/opt-intel/tracking")
@login_required
@admin_only
def opt_intel_tracking():
    """Opt-Intel > Tracking: the Project-level tracking rules."""
    return render_template("settings/opt_intel_tracking.html", **panel_context(Level.PROJECT, None))

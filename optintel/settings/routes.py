"""System Management > General > Project Settings: Opt-Intel > Settings and > Tracking."""
from flask import redirect, render_template, url_for

from ..crud import saved
from ..guards import guard_blueprint
from ..models import Level, ProjectSettings
from ..project_settings import apply_project_settings
from ..tracking.panel import panel_context
from . import bp
from .forms import ProjectSettingsForm

guard_blueprint(bp, "settings")


@bp.route("/")
def index():
    """Project Settings open on Opt-Intel > Settings."""
    return redirect(url_for(".opt_intel_settings"))


@bp.route("/opt-intel/settings", methods=["GET", "POST"])
def opt_intel_settings():
    """Opt-Intel > Settings: default phone region, default SMTP connection, retries, targets."""
    settings = ProjectSettings.get()
    form = ProjectSettingsForm(obj=settings)
    if saved(form, settings, apply_project_settings, "Project settings saved."):
        return redirect(url_for(".opt_intel_settings"))
    return render_template("settings/opt_intel_settings.html", form=form, settings=settings)


@bp.route("/opt-intel/tracking")
def opt_intel_tracking():
    """Opt-Intel > Tracking: the Project-level tracking rules."""
    return render_template("settings/opt_intel_tracking.html", **panel_context(Level.PROJECT, None))

"""What the Tracking Log pages show of a page of rows: masked contacts, scope names, and the
geometry of the chart's inline SVG."""
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Campaign, DeliveryStatus, Level, OptOutList
from ..tracking_log.masking import mask_contact


@dataclass
class DeliveryRow:
    delivery: object
    contact: str  # masked: the plain value never reaches a page before confirmation
    tracking: str
    message: str = ""

    @property
    def retryable(self):
        return self.delivery.status.retryable


def delivery_rows(deliveries, message=""):
    """The rows of a page of deliveries (their events loaded), with one query per scope kind."""
    names = scope_names([(d.level, d.scope_id) for d in deliveries])
    return [DeliveryRow(d, mask_contact(d.event.contact, d.contact_md5),
                        tracking_label(d.level, d.scope_id, names), message)
            for d in deliveries]


@dataclass
class TestRunRow:
    __test__ = False  # not a pytest test class

    run: object
    tracking: str


def test_run_rows(runs):
    """The rows of a page of test runs."""
    names = scope_names([(run.level, run.scope_id) for run in runs])
    return [TestRunRow(run, tracking_label(run.level, run.scope_id, names)) for run in runs]


def scope_names(scopes):
    """{(is campaign, id): name} of the campaigns and lists of these (level, scope id)."""
    names = {}
    for is_campaign, model in ((True, Campaign), (False, OptOutList)):
        ids = {scope_id for level, scope_id in scopes
               if scope_id is not None and level != Level.PROJECT and level.is_campaign == is_campaign}
        if ids:
            rows = db.session.execute(sa.select(model.id, model.name).where(model.id.in_(ids)))
            names.update({(is_campaign, i): name for i, name in rows})
    return names


def tracking_label(level, scope_id, names):
    """'Project', or the level and the name of its campaign or list."""
    if level == Level.PROJECT:
        return level.label
    name = names.get((level.is_campaign, scope_id), f"#{scope_id} (deleted)")
    return f"{level.label}: {name}"


# The chart ---------------------------------------------------------------------------------

WIDTH, HEIGHT = 1000, 180
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 34
# The statuses the bars stack, bottom up; app.css colours them (no inline style: see the CSP).
SERIES = (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.RETRYING,
          DeliveryStatus.HELD)
MAX_LABELS = 10


@dataclass
class Segment:
    status: DeliveryStatus
    y: float
    height: float
    count: int


@dataclass
class Bar:
    x: float
    width: float
    title: str
    label: str  # the date under the bar, on every few bars only
    segments: list


def chart_figure(chart):
    """The bars of a tracking_log.chart.Chart as SVG coordinates, stacked bottom up in the
    order of SERIES, and the labels of the axes."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(chart.buckets), 1)
    every = -(-len(chart.buckets) // MAX_LABELS) or 1
    fmt = "%m-%d %H:00" if chart.hourly else "%Y-%m-%d"
    bars = []
    for index, (start, counts) in enumerate(chart.buckets):
        base, segments = TOP + plot_height, []
        for status in SERIES:
            count = counts.get(status, 0)
            height = plot_height * count / chart.peak if chart.peak else 0
            if count:
                base -= height
                segments.append(Segment(status, round(base, 1), round(height, 1), count))
        title = start.strftime(fmt) + " UTC · " + ", ".join(
            f"{status.label}: {counts.get(status, 0)}" for status in SERIES)
        bars.append(Bar(round(LEFT + index * slot + slot * 0.1, 1), round(slot * 0.8, 1), title,
                        start.strftime(fmt) if index % every == 0 else "", segments))
    return {"bars": bars, "width": WIDTH, "height": HEIGHT, "left": LEFT, "top": TOP,
            "bottom": TOP + plot_height, "right": WIDTH - RIGHT, "peak": chart.peak,
            "series": SERIES, "hourly": chart.hourly}

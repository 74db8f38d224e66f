"""What the Tracking Log pages show of a page of rows: masked contacts, scope names, and the
geometry of the chart's inline SVG."""
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Campaign, DeliveryStatus, Level, OptOutList
# The bars stack the statuses the chart counts, bottom up (chart.SHOWN); app.css colours them
# (no inline style: see the CSP).
from ..tracking_log.chart import SHOWN
from ..tracking_log.masking import mask_contact


@dataclass
class DeliveryRow:
    delivery: object
    contact: str  # masked: the plain value never reaches a page before confirmation
    tracking: str
    message: str = ""
    # Whether its level's Tracking tab is there to link to (not after its list or campaign went).
    scope_exists: bool = True

    @property
    def retryable(self):
        return self.delivery.status.retryable


def delivery_rows(deliveries, message=""):
    """The rows of a page of deliveries (their events loaded), with one query per scope kind."""
    names = scope_names([(d.level, d.scope_id) for d in deliveries])
    return [DeliveryRow(d, mask_contact(d.event.contact, d.contact_md5),
                        tracking_label(d.level, d.scope_id, names), message,
                        d.level == Level.PROJECT or (d.level.is_campaign, d.scope_id) in names)
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
MAX_LABELS = 10
# The least height of a segment that holds any row: 3 failures beside 1,215 successes still
# show, taken from the bar's tallest segment.
MIN_SEGMENT = 4


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
    order of SHOWN, and the labels of the axes and the totals of the legend."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(chart.buckets), 1)
    every = -(-len(chart.buckets) // MAX_LABELS) or 1
    fmt = "%m-%d %H:00" if chart.hourly else "%Y-%m-%d"
    bars = []
    for index, (start, counts) in enumerate(chart.buckets):
        base, segments = TOP + plot_height, []
        for status, height in _heights(counts, chart.peak, plot_height):
            base -= height
            segments.append(Segment(status, round(base, 1), round(height, 1), counts[status]))
        title = start.strftime(fmt) + " UTC · " + ", ".join(
            f"{status.label}: {counts.get(status, 0)}" for status in SHOWN)
        bars.append(Bar(round(LEFT + index * slot + slot * 0.1, 1), round(slot * 0.8, 1), title,
                        start.strftime(fmt) if index % every == 0 else "", segments))
    totals = {status: sum(counts.get(status, 0) for _, counts in chart.buckets)
              for status in SHOWN}
    return {"bars": bars, "width": WIDTH, "height": HEIGHT, "left": LEFT, "top": TOP,
            "bottom": TOP + plot_height, "right": WIDTH - RIGHT, "peak": chart.peak,
            "series": SHOWN, "hourly": chart.hourly, "totals": totals}


def _heights(counts, peak, plot_height):
    """[(status, height)] of a bar's segments that hold rows, each at least MIN_SEGMENT high
    and together as high as the bar's rows make it (or as the least heights need)."""
    heights = {status: plot_height * counts[status] / peak
               for status in SHOWN if counts.get(status) and peak}
    total = sum(heights.values())
    raised = {status: max(height, MIN_SEGMENT) for status, height in heights.items()}
    excess = sum(raised.values()) - total
    if excess > 0:
        tallest = max(raised, key=raised.get)
        raised[tallest] = max(raised[tallest] - excess, MIN_SEGMENT)
    return [(status, raised[status]) for status in SHOWN if status in raised]

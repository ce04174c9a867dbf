"""Charts of the analytics tables as SVG, drawn on the server with pygal (no JavaScript,
nothing from a CDN: its tooltips script is switched off). The table under each chart
on the page carries the same numbers for screen readers and for copying."""

from __future__ import annotations

import re

import pygal
from pygal.style import Style

from .analytics import Table

# Which columns of each table are drawn (the rest are context in the table).
SERIES = {
    "kiosk_share": ("percent",), "checkin_time": ("median minutes",), "funnel": ("completed", "backed out", "abandoned"),
    "completion_by_language": ("percent",), "completion_by_age_band": ("percent",),
    "completion_by_visit_type": ("percent",), "portal_signups": ("sign-ups",),
    "form_completion": ("completed", "part-way"), "copay_collected": ("dollars",),
    "satisfaction": ("hard", "okay", "easy"),
}
# High-contrast colours that stay apart for the common colour-vision deficiencies.
_LOOK = dict(background="white", plot_background="white", foreground="#111111", foreground_strong="#111111",
             foreground_subtle="#555555", font_family="sans-serif", label_font_size=13, major_label_font_size=13,
             legend_font_size=14, value_font_size=12, title_font_size=16)
COLOURS_DEFAULT = ("#0b4f9c", "#e69f00", "#a4001d", "#009e73")
# Where the series mean bad / middling / good, they are coloured so.
COLOURS = {"satisfaction": ("#a4001d", "#e69f00", "#009e73"), "funnel": ("#009e73", "#e69f00", "#a4001d"),
           "form_completion": ("#009e73", "#e69f00")}
MAX_LABELS = 14  # more x labels than this overlap: show every n-th
# pygal writes its config for the (disabled) tooltips script into the SVG anyway: drop it,
# so the chart holds no script at all (it is served with a CSP that would block it too).
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)


def svg(table: Table) -> str:
    kind = {"line": pygal.Line, "bar": pygal.Bar, "stacked": pygal.StackedBar}[table.chart]
    style = Style(**_LOOK, colors=COLOURS.get(table.name, COLOURS_DEFAULT))
    chart = kind(js=[], style=style, width=900, height=340, disable_xml_declaration=True, show_legend=True,
                 legend_at_bottom=True, x_label_rotation=30 if table.chart == "line" else 0, margin=16,
                 print_values=False, no_data_text="No data in this range", show_minor_x_labels=False,
                 truncate_label=18, explicit_size=True)
    labels = [str(row[0]) for row in table.rows]
    chart.x_labels = labels
    step = max(1, -(-len(labels) // MAX_LABELS))
    chart.x_labels_major = labels[::step]
    for column in SERIES[table.name]:
        index = table.columns.index(column)
        chart.add(column, [row[index] for row in table.rows])
    return _SCRIPT.sub("", chart.render(is_unicode=True))

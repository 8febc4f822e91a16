"""Generate toxmon's Grafana dashboard (dashboards/toxmon.json) with grafana-foundation-sdk.

Run `make dashboards` after changing a panel; a unit test fails while the committed JSON differs
from what this script builds. The queries use the job names of prometheus/prometheus.yml.
"""

import sys
from pathlib import Path

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders.dashboard import (
    Dashboard,
    DatasourceVariable,
    QueryVariable,
    Row,
)
from grafana_foundation_sdk.builders.prometheus import Dataquery as PrometheusQuery
from grafana_foundation_sdk.builders.stat import Panel as Stat
from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common, dashboard

OUTPUT = Path(__file__).resolve().parent / "dashboards" / "toxmon.json"

DATASOURCE = common.DataSourceRef(type_val="prometheus", uid="${datasource}")
# The app's series on the chosen replicas; /metrics scrapes themselves are left out.
APP = 'job="toxmon", instance=~"$instance"'
APP_VIEWS = f'{APP}, view!="metrics"'
NODE = 'job="node"'
# Real filesystems only: memory-backed and image filesystems are always "full".
DISK = f'{NODE}, fstype!~"tmpfs|ramfs|squashfs|nsfs"'


def query(expr: str, legend: str = "", ref_id: str = "A") -> PrometheusQuery:
    """Return a range query of the Prometheus data source."""
    return PrometheusQuery().expr(expr).legend_format(legend or "__auto").ref_id(ref_id).range()


def quantiles(metric: str, selector: str, by: str = "") -> list[PrometheusQuery]:
    """Return the p50, p95 and p99 queries of a histogram."""
    group = f"{by}, le" if by else "le"
    legend_prefix = f"{{{{{by}}}}} " if by else ""
    return [
        query(
            f"histogram_quantile({q}, sum by ({group}) "
            f"(rate({metric}_bucket{{{selector}}}[$__rate_interval])))",
            f"{legend_prefix}p{round(q * 100)}",
            ref_id,
        )
        for q, ref_id in ((0.5, "A"), (0.95, "B"), (0.99, "C"))
    ]


def timeseries(title: str, unit: str, targets: list[PrometheusQuery], *, width: int = 8):
    """Return a time series panel of the given queries."""
    panel = (
        Timeseries()
        .title(title)
        .datasource(DATASOURCE)
        .unit(unit)
        .min(0)
        .span(width)
        .height(8)
        .legend(
            common_builders.VizLegendOptions()
            .show_legend(True)
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
        )
    )
    for target in targets:
        panel = panel.with_target(target)
    return panel


def stat(
    title: str, unit: str, target: PrometheusQuery, *, width: int = 6, height: int = 4
) -> Stat:
    """Return a single-value panel."""
    return (
        Stat()
        .title(title)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(height)
        .with_target(target)
    )


def traffic_panels() -> list:
    responses = "django_http_responses_total_by_status_view_method_total"
    return [
        stat("App instances up", "none", query('sum(up{job="toxmon"})', "up"), width=4, height=8),
        timeseries(
            "Requests per second by view",
            "reqps",
            [
                query(
                    f"sum by (view) (rate({responses}{{{APP_VIEWS}}}[$__rate_interval]))",
                    "{{view}}",
                )
            ],
            width=10,
        ),
        timeseries(
            "Request latency (p50, p95, p99)",
            "s",
            quantiles("django_http_requests_latency_seconds_by_view_method", APP_VIEWS),
            width=10,
        ),
        timeseries(
            "Error responses (share of 4xx and 5xx)",
            "percentunit",
            [
                # `or vector(0)`: no errors is 0 %, not an empty panel.
                query(
                    f'(sum(rate({responses}{{{APP_VIEWS}, status=~"5.."}}[$__rate_interval]))'
                    f" or vector(0))"
                    f" / sum(rate({responses}{{{APP_VIEWS}}}[$__rate_interval]))",
                    "5xx",
                    "A",
                ),
                query(
                    f'(sum(rate({responses}{{{APP_VIEWS}, status=~"4.."}}[$__rate_interval]))'
                    f" or vector(0))"
                    f" / sum(rate({responses}{{{APP_VIEWS}}}[$__rate_interval]))",
                    "4xx",
                    "B",
                ),
            ],
            width=12,
        ),
        timeseries(
            "Exceptions per second by type",
            "ops",
            [
                query(
                    "sum by (type) (rate(django_http_exceptions_total_by_type_total"
                    f"{{{APP}}}[$__rate_interval])) or vector(0)",
                    "{{type}}",
                )
            ],
            width=12,
        ),
    ]


def model_panels() -> list:
    texts = "toxmon_texts_analyzed_total"
    return [
        stat(
            "Engine",
            "none",
            query(f"max by (engine, model) (toxmon_model_info{{{APP}}})", "{{engine}}: {{model}}"),
            width=12,
        ),
        stat(
            "Fallback engine",
            "none",
            query(f"max(toxmon_fallback_active{{{APP}}})", "fallback"),
        ).mappings(
            [
                dashboard.ValueMap(
                    options={
                        "0": dashboard.ValueMappingResult(text="off", color="green"),
                        "1": dashboard.ValueMappingResult(text="ACTIVE", color="red"),
                    }
                )
            ]
        ),
        stat(
            "Model load time",
            "s",
            query(f"max(toxmon_model_load_seconds{{{APP}}})", "load"),
        ),
        timeseries(
            "Inference latency (p50, p95, p99)",
            "s",
            quantiles("toxmon_inference_duration_seconds", APP, by="engine"),
            width=12,
        ),
        timeseries(
            "Texts analysed per second by verdict",
            "ops",
            [query(f"sum by (verdict) (rate({texts}{{{APP}}}[$__rate_interval]))", "{{verdict}}")],
            width=12,
        ),
        timeseries(
            "Toxic share",
            "percentunit",
            [
                query(
                    f'sum(rate({texts}{{{APP}, verdict="toxic"}}[$__rate_interval]))'
                    f" / sum(rate({texts}{{{APP}}}[$__rate_interval]))",
                    "toxic",
                )
            ],
        ),
        timeseries(
            "Mean score by label",
            "percentunit",
            [
                query(
                    f"sum by (label) (rate(toxmon_label_score_sum{{{APP}}}[$__rate_interval]))"
                    " / sum by (label) "
                    f"(rate(toxmon_label_score_count{{{APP}}}[$__rate_interval]))",
                    "{{label}}",
                )
            ],
        ),
        timeseries(
            "Prediction failures and stored analyses per second",
            "ops",
            [
                query(
                    "sum by (engine) (rate(toxmon_prediction_failures_total"
                    f"{{{APP}}}[$__rate_interval]))",
                    "failures {{engine}}",
                    "A",
                ),
                query(
                    f"sum(rate(toxmon_analyses_stored_total{{{APP}}}[$__rate_interval]))",
                    "stored",
                    "B",
                ),
            ],
        ),
    ]


def host_panels() -> list:
    return [
        timeseries(
            "CPU busy",
            "percentunit",
            [
                query(
                    "1 - avg by (instance) (rate(node_cpu_seconds_total"
                    f'{{{NODE}, mode="idle"}}[$__rate_interval]))',
                    "{{instance}}",
                )
            ],
            width=6,
        ),
        timeseries(
            "Memory used",
            "percentunit",
            [
                query(
                    f"1 - node_memory_MemAvailable_bytes{{{NODE}}}"
                    f" / node_memory_MemTotal_bytes{{{NODE}}}",
                    "{{instance}}",
                )
            ],
            width=6,
        ),
        timeseries(
            "Disk used",
            "percentunit",
            [
                query(
                    f"1 - node_filesystem_avail_bytes{{{DISK}}}"
                    f" / node_filesystem_size_bytes{{{DISK}}}",
                    "{{mountpoint}}",
                )
            ],
            width=6,
        ),
        timeseries(
            "Network traffic",
            "bps",
            [
                query(
                    "sum by (instance) (rate(node_network_receive_bytes_total"
                    f'{{{NODE}, device!="lo"}}[$__rate_interval])) * 8',
                    "received",
                    "A",
                ),
                query(
                    "sum by (instance) (rate(node_network_transmit_bytes_total"
                    f'{{{NODE}, device!="lo"}}[$__rate_interval])) * 8',
                    "sent",
                    "B",
                ),
            ],
            width=6,
        ),
    ]


def build_dashboard() -> Dashboard:
    """Return the toxmon dashboard: rows for traffic, the model and the host."""
    builder = (
        Dashboard("toxmon")
        .uid("toxmon")
        .description("Traffic, model and host of toxmon, from Prometheus.")
        .tags(["toxmon", "generated"])
        .editable()
        .refresh("10s")
        .time("now-30m", "now")
        .timezone(common.TimeZoneBrowser)
        .timepicker(dashboard_builders.TimePicker().refresh_intervals(["5s", "10s", "30s", "1m"]))
        .with_variable(
            DatasourceVariable("datasource")
            .label("Data source")
            .type("prometheus")
            .current(dashboard.VariableOption(text="Prometheus", value="prometheus"))
        )
        .with_variable(
            QueryVariable("instance")
            .label("App instance")
            .datasource(DATASOURCE)
            .query('label_values(up{job="toxmon"}, instance)')
            .refresh(dashboard.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .multi(True)
            .include_all(True)
            .current(dashboard.VariableOption(text="All", value="$__all"))
        )
    )
    for title, panels in (
        ("Traffic", traffic_panels()),
        ("Model", model_panels()),
        ("Host", host_panels()),
    ):
        builder = builder.with_row(Row(title))
        for panel in panels:
            builder = builder.with_panel(panel)
    return builder


def dashboard_json() -> str:
    """Return the dashboard as the JSON Grafana provisions, with a final newline."""
    return JSONEncoder(sort_keys=True, indent=2).encode(build_dashboard().build()) + "\n"


def main() -> int:
    OUTPUT.write_text(dashboard_json())
    print(
        f"wrote {OUTPUT.relative_to(Path.cwd()) if OUTPUT.is_relative_to(Path.cwd()) else OUTPUT}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

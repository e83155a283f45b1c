"""Where the GLUE MRPC metric comes from: the course bundle, the Hub when it answers, else the module the course ships."""

from pathlib import Path

from helpers.bundled import bundled_metric
from helpers.hub import hub_status

LOCAL_METRIC = Path(__file__).resolve().parent / "mrpc_metric" / "mrpc_metric.py"


def metric_source(quiet: bool = False) -> tuple[str, str]:
    """What to give `evaluate.load`: the bundle's module, ("glue", "mrpc") if the Hub answers, else the shipped one (lesson 4)."""
    bundled = bundled_metric()  # with COURSE_BUNDLE, the room never asks the Hub
    if bundled is not None:
        if not quiet:
            print(f"Metric: GLUE MRPC accuracy and F1 from the course bundle's module {bundled}, because COURSE_BUNDLE is set.")
        return str(bundled), "mrpc"
    reachable, why = hub_status()
    if not quiet:
        print('Metric: evaluate.load("glue", "mrpc") from the Hub.' if reachable
              else f"Metric: GLUE MRPC accuracy and F1 from the course's own module, because {why}.")
    return ("glue", "mrpc") if reachable else (str(LOCAL_METRIC), "mrpc")

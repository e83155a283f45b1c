"""Where the GLUE MRPC metric comes from: the Hub when it answers, else the module the course ships."""

from pathlib import Path

from helpers.hub import hub_status

LOCAL_METRIC = Path(__file__).resolve().parent / "mrpc_metric" / "mrpc_metric.py"


def metric_source(quiet: bool = False) -> tuple[str, str]:
    """What to give `evaluate.load`: ("glue", "mrpc") when the Hub answers, else the shipped module's path (lesson 4)."""
    reachable, why = hub_status()
    if not quiet:
        print('Metric: evaluate.load("glue", "mrpc") from the Hub.' if reachable
              else f"Metric: GLUE MRPC accuracy and F1 from the course's own module, because {why}.")
    return ("glue", "mrpc") if reachable else (str(LOCAL_METRIC), "mrpc")

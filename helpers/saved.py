"""Saved notebooks that reopen cleanly: a Jupyter server extension whose pre-save hook keeps each widget's one-line text
in place of the widget itself, which no later kernel can draw (JupyterLab would show "Error displaying widget: model
not found"). Installing the course enables it (`enable`, run by tools/install.py and binder/postBuild).

A widget whose state the notebook saved (JupyterLab's "Save Widget State Automatically") is kept: it can be drawn."""

WIDGET = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"
# The line left where a widget was, when the widget left no text of its own
FALLBACK = "A widget was here: run this cell again to show it (widgets need the kernel that drew them)."


def without_widgets(notebook: dict) -> int:
    """Drop from `notebook` (a dict as saved) every widget output that no saved state can draw again, keeping its text;
    returns how many were dropped."""
    saved = notebook.get("metadata", {}).get("widgets", {}).get(STATE, {}).get("state", {})
    dropped = 0
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data")
            if not isinstance(data, dict) or WIDGET not in data:
                continue
            view = data[WIDGET]
            if isinstance(view, dict) and view.get("model_id") in saved:
                continue  # drawable from the state the notebook saved
            del data[WIDGET]
            text = data.get("text/plain")
            if not text or (isinstance(text, (str, list)) and "".join(text).startswith(("VBox(", "HBox(", "Box("))):
                data["text/plain"] = FALLBACK  # a bare repr of a container means nothing to a reader
            dropped += 1
    return dropped


def pre_save(model: dict, **kwargs) -> None:
    """The pre-save hook: notebooks only, edited in place before the server writes them."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        without_widgets(model["content"])


def enable(prefix: str | None = None) -> str:
    """Turn the extension on for the Jupyter server of this Python's environment; returns the file written. (`jupyter
    server extension enable` refuses an extension that no file names yet: a file in the config.d folder is what packages do.)"""
    import json
    import sys
    from pathlib import Path

    folder = Path(prefix or sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.d"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mrpc-course.json"
    path.write_text(json.dumps({"ServerApp": {"jpserver_extensions": {__name__: True}}}, indent=2) + "\n", encoding="utf-8")
    return str(path)


def _jupyter_server_extension_points():
    return [{"module": "helpers.saved"}]


def _load_jupyter_server_extension(server) -> None:
    server.contents_manager.register_pre_save_hook(pre_save)

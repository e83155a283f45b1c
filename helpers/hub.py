"""Is the Hugging Face Hub reachable? Answered in about two seconds, once per process."""

import functools
import os
import socket
import ssl
import threading
import urllib.error
import urllib.request

TRUTHY = {"1", "true", "yes", "on"}


def offline_requested() -> bool:
    """Whether HF_HUB_OFFLINE asks the libraries to stay offline (lesson 1)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in TRUTHY


def hub_endpoint() -> str:
    """The Hub address the libraries use (HF_ENDPOINT, else huggingface.co) (lesson 1)."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def _probe(url: str, timeout: float, answer: list) -> None:
    try:
        urllib.request.urlopen(url, timeout=timeout).close()  # HTTP errors (503, a proxy's 403) raise HTTPError
        answer.append((True, "it answered"))
    except Exception as exc:  # any failure to get an answer that is not an error means: out of reach
        answer.append((False, _reason(url, exc, timeout)))


def _reason(url: str, exc: Exception, timeout: float) -> str:
    """Why the Hub counts as out of reach, in a few words for the one line that says so (lesson 1)."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"{url} answered HTTP {exc.code}"
    cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(cause, TimeoutError):  # socket.timeout is TimeoutError
        return f"{url} did not answer within {timeout:g} s"
    if isinstance(cause, socket.gaierror):
        return f"{url} cannot be reached (its name does not resolve: no network, or no DNS)"
    if isinstance(cause, ssl.SSLError):
        return f"{url} cannot be reached (TLS failed: {getattr(cause, 'verify_message', None) or cause.reason or type(cause).__name__})"
    if isinstance(cause, ConnectionRefusedError):
        return f"{url} cannot be reached (connection refused)"
    return f"{url} cannot be reached ({type(cause).__name__})"


@functools.cache
def _status(endpoint: str, offline: bool, timeout: float) -> tuple[bool, str]:
    if offline:
        return False, "HF_HUB_OFFLINE is set"
    answer: list = []
    worker = threading.Thread(target=_probe, args=(endpoint, timeout, answer), daemon=True)
    worker.start()
    worker.join(timeout)  # a name lookup can outlast the socket timeout; never wait longer
    return answer[0] if answer else (False, f"{endpoint} did not answer within {timeout:g} s")


_WENT_OFFLINE: dict[str, str] = {}  # endpoints this process set HF_HUB_OFFLINE for, and the real reason


def go_offline(why: str) -> None:
    """Set HF_HUB_OFFLINE=1 because the Hub is out of reach, remembering why, so that later lines name the real reason
    rather than the setting (lesson 1)."""
    if not offline_requested():
        os.environ["HF_HUB_OFFLINE"] = "1"
        _WENT_OFFLINE[hub_endpoint()] = why


def hub_status(timeout: float = 2.0) -> tuple[bool, str]:
    """(reachable, why): whether the Hub answers, decided within `timeout` seconds (lesson 1)."""
    if offline_requested() and hub_endpoint() in _WENT_OFFLINE:
        return False, _WENT_OFFLINE[hub_endpoint()]
    return _status(hub_endpoint(), offline_requested(), timeout)


def hub_reachable(timeout: float = 2.0) -> bool:
    """Whether the Hub answers within `timeout` seconds; remembered for the session (lesson 1)."""
    return hub_status(timeout)[0]

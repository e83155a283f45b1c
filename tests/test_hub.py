import http.server
import threading
import time
import urllib.request

import pytest

from helpers import hub


@pytest.fixture
def local_server():
    """An HTTP server on loopback that answers every request with 404."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_offline_flag_answers_at_once():
    start = time.perf_counter()
    assert hub.hub_status() == (False, "HF_HUB_OFFLINE is set")
    assert time.perf_counter() - start < 0.05


def test_refused_connection_means_offline(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    reachable, why = hub.hub_status()
    assert not reachable and "cannot be reached" in why


def test_a_silent_hub_is_given_up_after_the_timeout(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: time.sleep(30))
    start = time.perf_counter()
    reachable, why = hub.hub_status(timeout=1.0)
    assert not reachable and "did not answer within 1 s" in why
    assert time.perf_counter() - start < 1.5


def test_any_http_answer_means_online_and_is_remembered(monkeypatch, local_server):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", local_server)
    assert hub.hub_reachable()
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("asked twice"))
    assert hub.hub_reachable()

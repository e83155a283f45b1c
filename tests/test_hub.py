import http.server
import socket
import threading
import time
import urllib.request

import pytest

from helpers import hub
from helpers.recipe import load_mrpc


@pytest.fixture
def local_server():
    """Start HTTP servers on loopback, each answering every request with the status code it is given."""
    servers = []

    def answering(code: int) -> str:
        class Answer(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield answering
    for server in servers:
        server.shutdown()
        server.server_close()


def test_offline_flag_answers_at_once():
    start = time.perf_counter()
    assert hub.hub_status() == (False, "HF_HUB_OFFLINE is set")
    assert time.perf_counter() - start < 0.05


def test_refused_connection_means_offline(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    reachable, why = hub.hub_status()
    assert not reachable and why == "http://127.0.0.1:9 cannot be reached (connection refused)"


def test_a_silent_hub_is_given_up_after_the_timeout(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: time.sleep(30))
    start = time.perf_counter()
    reachable, why = hub.hub_status(timeout=1.0)
    assert not reachable and "did not answer within 1 s" in why
    assert time.perf_counter() - start < 1.5


def test_an_answer_of_200_means_online_and_is_remembered(monkeypatch, local_server):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", local_server(200))
    assert hub.hub_status() == (True, "it answered")
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("asked twice"))
    assert hub.hub_reachable()


@pytest.mark.parametrize("code", [503, 403, 404])  # an outage; a proxy that refuses or does not know the Hub
def test_an_http_error_means_out_of_reach_and_says_which(monkeypatch, local_server, code):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    url = local_server(code)
    monkeypatch.setenv("HF_ENDPOINT", url)
    assert hub.hub_status() == (False, f"{url} answered HTTP {code}")


def test_a_hub_answering_503_falls_back_to_the_sample_at_once(monkeypatch, local_server, capsys):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    url = local_server(503)
    monkeypatch.setenv("HF_ENDPOINT", url)
    start = time.perf_counter()
    dataset = load_mrpc()
    assert time.perf_counter() - start < 2.5
    said = capsys.readouterr().out
    assert f"sample of MRPC-style pairs, because the Hub is out of reach: {url} answered HTTP 503." in said
    assert dataset["train"].num_rows == 64  # smoke profile


def test_a_failed_tls_handshake_means_out_of_reach(monkeypatch, local_server):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    url = local_server(200).replace("http://", "https://")  # a plain HTTP server cannot answer TLS
    monkeypatch.setenv("HF_ENDPOINT", url)
    reachable, why = hub.hub_status()
    assert not reachable and why.startswith(f"{url} cannot be reached (TLS failed: ")


def test_a_name_that_does_not_resolve_means_out_of_reach(monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)  # no DNS query leaves this machine
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.example.invalid")
    reachable, why = hub.hub_status()
    assert not reachable and why == "https://hub.example.invalid cannot be reached (its name does not resolve: no network, or no DNS)"


def test_a_socket_timeout_means_out_of_reach():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts the connection, never answers
        url, answer = f"http://127.0.0.1:{silent.getsockname()[1]}", []
        hub._probe(url, 0.5, answer)  # the socket's own timeout, not the wait for the probe's thread
        assert answer == [(False, f"{url} did not answer within 0.5 s")]

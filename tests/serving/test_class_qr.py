"""Joining a class by QR code: the code the Class view shows, and the one `aeviz serve` prints, read back by
an independent decoder (OpenCV) to the exact address; and which address that is."""

from __future__ import annotations

import argparse
import base64
import re

from aeviz.serving import addresses, qr
from tests.apptest import open_page
from tests.qr_decode import decode_png, decode_terminal

SERVED = "http://192.0.2.10:8501"  # a documentation address (RFC 5737): what `aeviz serve` would have set
TIMEOUT = 120


def shown_qr(at) -> tuple[bytes, int]:
    """The PNG of the Class view's QR code and the width it is shown at."""
    bodies = [element.proto.body for element in at.get("html") if 'data-testid="class-qr"' in element.proto.body]
    assert len(bodies) == 1, "the Class view shows one QR code"
    found = re.search(r'src="data:image/png;base64,([^"]+)" width="(\d+)"', bodies[0])
    return base64.b64decode(found.group(1)), int(found.group(2))


def test_the_class_view_shows_a_qr_code_of_the_served_address_and_of_a_lesson(monkeypatch):
    monkeypatch.setenv(addresses.SERVE_URL_ENV, SERVED)
    at = open_page("class_view.py", TIMEOUT)
    at.run()
    assert not at.exception
    image, width = shown_qr(at)
    assert decode_png(image) == SERVED
    assert width >= 300  # large enough to scan from the back of a room
    assert any(h.value == SERVED for h in at.subheader)  # the address in words beside it

    at.selectbox(key="class_qr_target").select("sparse-l1").run()
    assert not at.exception
    assert decode_png(shown_qr(at)[0]) == f"{SERVED}/lessons?lesson=sparse-l1"

    at.toggle(key="class_qr_show").set_value(False).run()  # the teacher can put it away
    assert not [e for e in at.get("html") if 'data-testid="class-qr"' in e.proto.body]


def test_without_aeviz_serve_the_class_view_warns_when_students_cannot_open_the_address(monkeypatch):
    monkeypatch.delenv(addresses.SERVE_URL_ENV, raising=False)
    monkeypatch.setattr(addresses, "interface_addresses", lambda: [("lo", "127.0.0.1")])
    at = open_page("class_view.py", TIMEOUT)
    at.run()
    assert not at.exception
    assert decode_png(shown_qr(at)[0]).startswith("http://localhost:")
    assert any("aeviz serve --address 0.0.0.0" in w.value for w in at.warning)


def test_the_terminal_code_reads_back_to_the_url():
    for url in (SERVED, "http://10.1.2.3:8600/lessons?lesson=linear-pca"):
        assert decode_terminal(qr.terminal_text(url)) == url
    assert "\033[" in qr.terminal_text(SERVED, encoding="ascii")  # a terminal without Unicode: ANSI blocks


def test_serve_prints_the_student_urls_and_the_code_of_the_first(monkeypatch):
    from aeviz.cli.commands.serve import banner

    monkeypatch.setattr(addresses, "interface_addresses", lambda: [("lo", "127.0.0.1"), ("eth0", "10.0.0.7"),
                                                                 ("wlan0", "192.168.1.20"), ("docker0", "172.17.0.1")])
    args = argparse.Namespace(port=8600, address="0.0.0.0", no_qr=False, ray_address=None)
    urls = addresses.student_urls("0.0.0.0", 8600)
    assert urls == ["http://192.168.1.20:8600", "http://10.0.0.7:8600"]  # a home/office LAN first, no bridges
    text = banner(args, urls)
    assert "http://10.0.0.7:8600" in text
    code = text[text.index(qr.terminal_text(urls[0])):]
    assert decode_terminal(code) == "http://192.168.1.20:8600"

    local = banner(argparse.Namespace(port=8600, address="localhost", no_qr=False, ray_address=None), [])
    assert "aeviz serve --address 0.0.0.0 --port 8600" in local and "\u2588" not in local


def test_the_address_the_class_view_uses(monkeypatch):
    monkeypatch.delenv(addresses.SERVE_URL_ENV, raising=False)
    lan = [("eth0", "192.168.1.20")]
    monkeypatch.setattr(addresses, "interface_addresses", lambda: lan)
    # the browser's address, when it is one students can reach
    assert addresses.class_url("http://192.168.1.20:8501/class_view", "0.0.0.0", 8501) == ("http://192.168.1.20:8501", True)
    # a teacher on localhost: the machine's network address, if the server listens on it
    assert addresses.class_url("http://localhost:8501/class_view", None, 8501) == ("http://192.168.1.20:8501", True)
    assert addresses.class_url("http://localhost:8501/class_view", "localhost", 8501) == ("http://localhost:8501", False)
    monkeypatch.setenv(addresses.SERVE_URL_ENV, "http://10.0.0.7:8600/")
    assert addresses.class_url("http://localhost:8501/", "localhost", 8501) == ("http://10.0.0.7:8600", True)
    assert addresses.lesson_url("http://10.0.0.7:8600", "vae-kl") == "http://10.0.0.7:8600/lessons?lesson=vae-kl"


def test_this_machines_addresses_are_read_without_error():
    for address in addresses.network_addresses():
        assert not address.startswith("127.")

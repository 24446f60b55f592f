"""The Class view's way in: a QR code of the app's address, or of the lesson being taught, large enough to
scan from the back of a room, with the address in words beside it. The code is `aeviz.serving.qr`'s, the one
`aeviz serve` prints in the terminal; the address is `aeviz.serving.addresses.class_url`'s."""

from __future__ import annotations

import base64
import html

import streamlit as st

from aeviz.serving import addresses, qr
from aeviz.lessons import load_lessons
from ui.links import page_url
from ui.theme import projector_on

QR_PIXELS = 360            # the code's side on a laptop's screen
QR_PIXELS_PROJECTOR = 400  # in projector mode: a third of a 1280x720 projection, below the title
APP = ""                   # the choice meaning "the app itself" (any other is a lesson's id)


def join_link() -> tuple[str, bool]:
    """(the link the QR code carries, whether students can open it): the app's address, or the chosen
    lesson's link on it."""
    base, reachable = addresses.class_url(page_url(), st.get_option("server.address"), st.get_option("server.port"))
    lesson = st.session_state.get("class_qr_target", APP)
    return (addresses.lesson_url(base, lesson) if lesson else base), reachable


def qr_html(link: str, side: int) -> str:
    """The code as an inline image (a PNG of whole pixels per module, drawn without smoothing)."""
    data, side = base64.b64encode(qr.png(link, side)).decode("ascii"), qr.pixels(link, side)
    return (f'<img src="data:image/png;base64,{data}" width="{side}" height="{side}" alt="QR code of '
            f'{html.escape(link)}" data-testid="class-qr" style="image-rendering: pixelated; display: block">')


def join_panel() -> None:
    """The QR code with the address beside it and a choice between the app and one lesson, laid out to fit
    the first screen of a 1280x720 projection; a toggle puts it away (and brings it back)."""
    if not st.session_state.get("class_qr_show", True):
        st.toggle("Show how to join (QR code)", value=True, key="class_qr_show")
        return
    lessons = {lesson.id: lesson for lesson in load_lessons()}
    left, right = st.columns([5, 6] if projector_on() else [4, 7])
    with right:
        st.selectbox("The code opens", [APP, *lessons], key="class_qr_target",
                     format_func=lambda i: "the app" if i == APP else f"the lesson: {lessons[i].title}")
        link, reachable = join_link()
        st.markdown("**Scan the code, or open**")
        st.subheader(link, anchor=False)
        if not reachable:
            st.warning("This address only works on this machine. For a class, start the app with "
                       "`aeviz serve --address 0.0.0.0`, which prints the address students can open.")
        st.toggle("Show how to join (QR code)", value=True, key="class_qr_show")
    with left:
        st.html(qr_html(link, QR_PIXELS_PROJECTOR if projector_on() else QR_PIXELS))

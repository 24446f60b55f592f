"""Class view, for the teacher's projector: the QR code students join by (ui.class_join), every run trained
on this server during the class on the error-against-k chart beside PCA's curve, who beat PCA at which k,
and the lessons' pass counts."""

from __future__ import annotations

import time

import streamlit as st

from aeviz.analysis import comparison as analysis
from aeviz.figures.latent import frontier_figure
from aeviz.lessons import load_lessons
from aeviz.lessons.record import beat_pca_table, pass_counts, read_checks
from aeviz.run_origin import origin_label

from ui.class_join import join_panel
from ui.common import current_dataset_name, dataset_or_stop, pca_curve
from ui.plain_text import plain
from ui.runs import saved_runs
from ui.theme import data_table, themed

REFRESH_SECONDS = 10.0

st.title("Class view")
st.caption("Every run trained here since the class began, named by session tag (never an id), lesson or sweep.")
join_panel()
dataset_name = current_dataset_name()
dataset = dataset_or_stop(dataset_name)
minutes = st.number_input("The class began this many minutes ago", 5, 24 * 60, 90, step=15, key="class_minutes")


@st.fragment(run_every=REFRESH_SECONDS)
def class_board(since: float) -> None:

    infos = [info for info in saved_runs(dataset_name) if info.created >= since]
    points = analysis.frontier_points(infos, dataset_name, pca_curve(dataset_name))
    st.markdown(f"**{len(points)} run(s)** on {plain(dataset.title)} since {time.strftime('%H:%M', time.localtime(since))}.")
    top_k = max(min(64, dataset.input_size // 2), *(p.k for p in points), 1)
    ks, mses = analysis.pca_frontier(dataset, top_k)
    st.plotly_chart(themed(frontier_figure(ks, mses, points)), key="class_frontier")
    # who made each run: a session's tag, a lesson's preparation, a sweep, an import, or the command line
    sessions = {info.run_id: "imported" if info.imported else origin_label(info.config.get("tags"))
                for info in infos}
    rows = beat_pca_table(points, sessions)
    if rows:
        st.markdown("**Who beat PCA, by variant and k**")
        data_table(rows, hide_index=True, width="stretch")
    counts = pass_counts(read_checks(since))
    st.markdown("**Lessons**")
    data_table([{"lesson": lesson.title, "sessions passed": counts.get(lesson.id, {}).get("sessions_passed", 0),
                   "sessions that checked": counts.get(lesson.id, {}).get("sessions_tried", 0)}
                  for lesson in load_lessons()], hide_index=True, width="stretch")


class_board(time.time() - 60 * float(minutes))

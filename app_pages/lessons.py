"""Lessons: a question, a goal checked on your own run, one-click setup, hints and the answer."""

from __future__ import annotations

import streamlit as st

from aeviz.lessons import load_lessons

from ui.lesson_views import (LIST_CHOICE, check_panel, lesson_from_link, lesson_label, lesson_list, lesson_nav,
                             progress_summary, setup_links)
from ui.links import publish, restore, share_link

st.title("Lessons")
st.caption("Each lesson asks a question and sets a goal you reach with a run of your own; the check measures "
           "your run and says whether it got there, with the numbers.")

lessons = {lesson.id: lesson for lesson in load_lessons()}
restore("lessons", lambda query: lesson_from_link(query, lessons))
progress_summary(list(lessons.values()))
choices = [LIST_CHOICE, *lessons]
if st.session_state.get("lesson_choice") not in choices:
    st.session_state["lesson_choice"] = LIST_CHOICE
lesson_id = st.selectbox("Lesson", choices, key="lesson_choice",
                         format_func=lambda i: "All lessons" if i == LIST_CHOICE else lesson_label(lessons[i]))
if lesson_id == LIST_CHOICE:
    publish("lessons", {"lesson": None}, owned=("runs",))
    lesson_list(list(lessons.values()))
    st.stop()
publish("lessons", {"lesson": lesson_id}, owned=("runs",))
lesson = lessons[lesson_id]
lesson_nav(list(lessons.values()), lesson, "top")
share_link("Link to this lesson")

st.subheader(lesson.title)
st.caption("Concepts: " + ", ".join(lesson.concepts))
st.markdown(lesson.question)
st.markdown(f"**Goal:** {lesson.goal.text}.")

st.markdown("#### Set up")
setup_links(lesson)

st.markdown("#### Hints")
for number, hint in enumerate(lesson.hints, 1):
    with st.expander(f"Hint {number}"):
        st.markdown(hint)
if st.toggle("Reveal the answer", key=f"lesson_answer.{lesson.id}"):
    st.markdown(lesson.answer)

st.markdown("#### Check my run")
check_panel(lesson)
lesson_nav(list(lessons.values()), lesson, "bottom")

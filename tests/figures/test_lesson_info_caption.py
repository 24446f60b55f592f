"""The Information page's words about KL(ρ‖ρ̂) agree with the numbers beside them (issue 31, item 13): it said
the penalty 'grows steeply as ρ̂ → 1 or 0', while at its own default ρ = 0.05 a unit on for 1% of the images
costs 0.041 nats, less than the 0.094 the chart's title gives for ρ̂ = 0.2. The words now quote the curve."""

from __future__ import annotations

import re

import numpy as np
import pytest

from aeviz.analysis import information
from aeviz.figures.information import OFTEN, RARE, bernoulli_kl_curve, sparse_penalty_words
from tests.apptest import open_page


@pytest.mark.parametrize("rho", np.round(np.arange(0.01, 0.51, 0.01), 2))  # the page's slider, every step
def test_the_words_quote_the_curve_and_say_which_side_rises_faster(rho):
    words = sparse_penalty_words(float(rho))
    rare, often = (float(information.bernoulli_kl(rho, x)) for x in (RARE, OFTEN))
    quoted = [float(v) for v in re.findall(r"costs (\d+\.\d+)", words)]
    assert quoted == pytest.approx([rare, often], abs=6e-4)
    assert "steeply as ρ̂ → 1 or 0" not in words
    if often > 2 * rare:
        assert "far harder against a unit that fires too often" in words
    else:
        assert "about equally hard" in words


def test_the_information_page_at_its_defaults_says_what_its_chart_shows(monkeypatch):
    at = open_page("information.py", 60).run()
    assert not at.exception
    rho, rho_hat = at.slider(key="info_rho").value, at.slider(key="info_rho_hat").value
    text = " ".join(m.value for m in at.markdown)
    assert sparse_penalty_words(rho) in text
    title = bernoulli_kl_curve(rho, rho_hat).layout.title.text
    shown = float(re.search(r"KL = (\d+\.\d+)", title).group(1))
    rare = float(re.search(r"costs (\d+\.\d+) nats", sparse_penalty_words(rho)).group(1))
    # at the defaults a nearly silent unit costs less than the one the chart marks: no "steep near 0"
    assert rare < shown and "steeply" not in text

"""Makhzani & Frey's filter figure says what the filters show (issue 31, item 8): a locality index per number
of active units, and words that claim the paper's trend only when the numbers fall at every step."""

from __future__ import annotations

import numpy as np
import pytest

from aeviz.analysis.sparsity import locality_index, locality_trend_words, locality_window


def test_the_locality_index_tells_a_stroke_from_a_template():
    filters = np.zeros((3, 28, 28))
    filters[0, 10:13, 5:7] = 1.0          # a short stroke
    filters[1] = 1.0                      # spread over the whole image
    filters[2, 3, 3], filters[2, 25, 25] = 1.0, 1.0  # two far-apart dots: half in any one patch
    values = locality_index(filters)
    window = locality_window(28)
    assert values[0] == pytest.approx(1.0)
    assert values[1] == pytest.approx(window * window / 28 ** 2)
    assert values[2] == pytest.approx(0.5)


def test_the_words_follow_the_numbers():
    falling = locality_trend_words([(10, 0.12), (70, 0.40), (40, 0.31), (25, 0.2)], 28)
    assert "70 active: 0.40, 40 active: 0.31, 25 active: 0.20, 10 active: 0.12" in falling
    assert "as in Makhzani & Frey's figure" in falling
    flat = locality_trend_words([(70, 0.2), (40, 0.21), (25, 0.2), (10, 0.19)], 28)
    assert "do not show the paper's trend" in flat and "as in Makhzani" not in flat
    running = locality_trend_words([(70, 0.40), (40, 0.31)], 28, final=False)
    assert "as in Makhzani" not in running and "do not show" not in running and "verdict comes" in running


def test_the_sparsity_page_no_longer_promises_the_papers_picture():
    from tests.conftest import ROOT

    text = (ROOT / "app_pages" / "sparsity.py").read_text()
    assert "With many \"\n            \"active units each filter is a local stroke" not in text
    assert "locality_trend_words" in text

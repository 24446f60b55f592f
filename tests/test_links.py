"""A configuration as URL query parameters and back (what a shared link carries)."""

import pytest

from aeviz.training.config import TrainConfig
from aeviz.errors import InvalidConfig
from aeviz.links import config_query, query_config, query_runs, shareable
from aeviz.training.fingerprint import config_fingerprint


def test_a_config_survives_the_round_trip_through_a_link():
    config = TrainConfig(dataset="digits", variant="overcomplete", k=128, epochs=60, seed=3, lr=1e-3, batch_size=128,
                         params={"regularizer": "noise", "noise_level": 0.3, "hidden": (64, 32)},
                         trainer={"lr_schedule": "cosine"})
    query = config_query(config, lesson="overcomplete")
    assert query["lesson"] == "overcomplete" and "session" not in query
    back = query_config(query)
    assert config_fingerprint(back) == config_fingerprint(config)
    seconds = TrainConfig(dataset="digits", variant="plain", k=4, max_seconds=30)
    assert query_config(config_query(seconds)).max_seconds == 30


def test_a_shared_link_drops_the_session_and_job_and_bad_values_are_named():
    assert shareable({"session": "abc", "job": "j", "k": "8"}) == {"k": "8"}
    assert query_config({"k": "8"}) is None
    with pytest.raises(InvalidConfig, match="k='eight'"):
        query_config({"dataset": "digits", "variant": "plain", "k": "eight"})
    with pytest.raises(InvalidConfig, match="name=value"):
        query_config({"dataset": "digits", "variant": "plain", "set": ["oops"]})
    assert query_runs({"runs": "a, b,,c"}) == ["a", "b", "c"]


def test_a_schedule_left_at_the_variants_default_and_typed_out_train_the_same_model():
    plain = TrainConfig(dataset="digits", variant="plain", k=4, epochs=3)
    assert config_fingerprint(plain) == config_fingerprint(
        TrainConfig(dataset="digits", variant="plain", k=4, epochs=3, trainer={"lr_schedule": "tail_decay"}))
    assert config_fingerprint(plain) != config_fingerprint(
        TrainConfig(dataset="digits", variant="plain", k=4, epochs=3, trainer={"lr_schedule": "constant"}))
    linear = TrainConfig(dataset="digits", variant="linear", k=4, epochs=3)  # its default is constant
    assert config_fingerprint(linear) == config_fingerprint(
        TrainConfig(dataset="digits", variant="linear", k=4, epochs=3, trainer={"lr_schedule": "constant"}))

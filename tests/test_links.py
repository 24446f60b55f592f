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
    linear = TrainConfig(dataset="digits", variant="linear", k=4, epochs=3)  # its default is cosine
    assert config_fingerprint(linear) == config_fingerprint(
        TrainConfig(dataset="digits", variant="linear", k=4, epochs=3, trainer={"lr_schedule": "cosine"}))


def test_link_config_applies_each_usable_value_and_names_every_other():
    from aeviz.links import link_config

    query = {"dataset": "digits", "variant": "plain", "k": "12", "lr": "1e99", "epochs": "inf", "seed": "1e400",
             "batch": "-5", "set": ["hidden=32", "nonsense=1", "activation=<script>"]}
    linked = link_config(query, lambda name: (1, 8, 8))
    config = linked.valid.config
    assert (config.k, config.params) == (12, {"hidden": "32"})  # the usable values, validated together
    assert linked.given == {"k"}
    assert [problem.split(" is ")[0] for problem in linked.problems] == [
        "the link's seed=1e400", "the link's epochs=inf", "the link's lr=1e99", "the link's batch=-5",
        "the link's set=nonsense=1", "the link's set=activation=<script>"]
    assert all(problem.endswith("kept the default") for problem in linked.problems)
    refused = link_config({**query, "k": "4"}, lambda name: (1, 8, 8), fits=lambda name, value: "too small" if name == "k" else None)
    assert refused.valid.config.k != 4 and "the link's k=4 is out of range (too small)" in refused.problems[0]


def test_link_choice_takes_a_known_value_and_names_any_other():
    from aeviz.links import link_choice

    assert link_choice({"lesson": "vae"}, "lesson", ("vae", "pca"), "a lesson here", "kept none") == ("vae", [])
    assert link_choice({}, "lesson", ("vae",), "a lesson here", "kept none") == (None, [])
    assert link_choice({"lesson": ["pca", "nope"]}, "lesson", ("pca",), "a lesson here", "it was not opened") == (
        None, ["the link's lesson=nope is not a lesson here; it was not opened"])  # the last of a repeated one
    _, [problem] = link_choice({"dataset": "x" * 5000}, "dataset", ("digits",), "a dataset here", "kept digits")
    assert problem.startswith("the link's dataset=" + "x" * 40 + "… (5,000 characters) is not a dataset here")


def test_link_runs_keeps_the_known_runs_and_names_each_left_out():
    from aeviz.links import link_runs

    known = {"a": 1, "b": 2, "c": 3}
    assert link_runs({"runs": "b, a"}, "runs", known, 4, "saved here") == (["b", "a"], [])
    chosen, problems = link_runs({"runs": "nope,a,b,a,c"}, "runs", known, 2, "saved here on digits")
    assert chosen == ["a", "b"]
    assert problems == ["the link's runs names nope, which is not a run saved here on digits; it was left out",
                        "the link's runs names 3 runs and this picker shows at most 2 runs; c left out"]
    chosen, problems = link_runs({"runs": "a,b"}, "runs", known, 1, "saved here")
    assert chosen == ["a"] and problems == ["the link's runs names 2 runs and this picker shows one run; b left out"]
    chosen, problems = link_runs({"runs": ",".join(f"x{i}" for i in range(9))}, "runs", known, 4, "saved here")
    assert chosen == [] and len(problems) == 6 and problems[-1] == "… and 4 more of the link's runs left out"
    chosen, problems = link_runs({"runs": "a," * 1500}, "runs", known, 4, "saved here")
    assert chosen == [] and problems == ["the link's runs is 3,000 characters long (at most 2,000); no run was chosen"]

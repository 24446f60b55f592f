"""The variant registry finds variants by their files, and what each variant declares for the pages holds."""

import re
import sys
import textwrap

import pytest
import torch

from aeviz.errors import InvalidConfig
from aeviz.data.noise import NOISE_KINDS
from aeviz.variants import SHARED_MODULES, VARIANTS, build_model, discover_variants, get_variant, variants_where
from tests.conftest import ROOT

DIGITS_SHAPE = (1, 8, 8)


def declared_names(cls) -> set[str]:
    return {p.name for p in cls.declared_params()}


# --------------------------------------------------------------------- discovery
def test_a_new_file_in_the_package_is_a_new_variant(tmp_path, monkeypatch):
    package = tmp_path / "more_variants"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tiny.py").write_text(textwrap.dedent('''
        from aeviz.variants.base import Autoencoder

        class TinyAutoencoder(Autoencoder):
            slug = "tiny"
            title = "Tiny"
            summary = "A test variant."
            menu_order = 20
    '''))
    (package / "first.py").write_text(textwrap.dedent('''
        from aeviz.variants.base import Autoencoder
        from more_variants.tiny import TinyAutoencoder  # imported, not defined here: not registered twice

        class FirstAutoencoder(Autoencoder):
            slug = "first"
            menu_order = 10
    '''))
    (package / "_helpers.py").write_text("raise RuntimeError('modules starting with _ are not imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        found = discover_variants("more_variants")
        assert list(found) == ["first", "tiny"]  # menu order, not file order
        assert found["tiny"].summary == "A test variant."
        (package / "again.py").write_text("from more_variants.tiny import TinyAutoencoder\n"
                                          "class Again(TinyAutoencoder):\n    pass\n")
        with pytest.raises(ImportError, match="two variants share the slug 'tiny'"):
            discover_variants("more_variants")
    finally:
        for name in [m for m in sys.modules if m == "more_variants" or m.startswith("more_variants.")]:
            del sys.modules[name]


def test_the_registry_holds_every_variant_file_of_the_package():
    files = {path.stem for path in (ROOT / "aeviz" / "variants").glob("*.py")
             if path.stem not in SHARED_MODULES and not path.stem.startswith("_")}
    assert {cls.__module__.rsplit(".", 1)[-1] for cls in VARIANTS.values()} == files
    orders = [cls.menu_order for cls in VARIANTS.values()]
    assert orders == sorted(orders)


def test_the_docs_variant_table_matches_the_registry():
    text = (ROOT / "docs" / "variants.md").read_text()
    section = text[text.index("## The variants"):]
    section = section[:section.index("\n## ", 1)]
    rows = re.findall(r"^\| `([^`]+)` \| (.+) \|$", section, flags=re.M)
    assert [(slug, summary.replace("\\|", "|")) for slug, summary in rows] == \
        [(slug, cls.summary) for slug, cls in VARIANTS.items()]


# --------------------------------------------------------------------- the declared facts
@pytest.mark.parametrize("slug", list(VARIANTS))
def test_declared_facts_name_declared_settings_with_values_that_fit(slug):
    cls = get_variant(slug)
    names = declared_names(cls)
    for fact in (cls.sparsity_knob, cls.activation_target_param):
        assert not fact or fact in names, (slug, fact)
    assert not cls.sparsity_knob or cls.sparsity_knob in cls.sweep_suggestions
    params = {p.name: p for p in cls.declared_params()}
    for name, values in cls.sweep_suggestions.items():
        assert name in names and len(values) >= 2, (slug, name)
        for value in values:
            params[name].parse(value)
            cls.check_settings(cls.default_k, {name: value})
    noise = cls.training_noise({})
    assert (noise is not None) == cls.denoises
    if noise is not None:
        assert noise[0] in NOISE_KINDS and 0 <= noise[1] <= 1
    target = cls.activation_target({})
    assert (target is None) == (not cls.activation_target_param)


def test_fallbacks_come_from_the_declaration():
    """A run that does not record a setting reads the variant's declared default, wherever it is asked."""
    denoising = get_variant(variants_where("denoises")[0])
    defaults = {p.name: p.default for p in denoising.declared_params()}
    assert denoising.training_noise({}) == (defaults["noise"], defaults["noise_level"])
    assert denoising.training_noise({"noise": "gaussian", "noise_level": 0.2}) == ("gaussian", 0.2)
    for slug in variants_where("activation_target_param"):
        cls = get_variant(slug)
        default = next(p.default for p in cls.declared_params() if p.name == cls.activation_target_param)
        assert cls.activation_target({}) == default
        assert cls.activation_target({cls.activation_target_param: 0.2}) == 0.2
    with pytest.raises(KeyError):
        denoising.setting({}, "no_such_setting")


def test_settings_that_must_fit_k_are_checked_by_the_variant():
    ksparse = get_variant("ksparse")
    ksparse.check_settings(8, {"active_units": 8})
    with pytest.raises(InvalidConfig, match="active_units=9 is larger than k=8"):
        ksparse.check_settings(8, {"active_units": 9})
    with pytest.raises(InvalidConfig, match="active_units"):  # the model checks it the same way
        build_model("ksparse", DIGITS_SHAPE, 8, {"active_units": 9})
    get_variant("sparse_l1").check_settings(1, {"l1_weight": 10.0})  # a penalty weight has nothing to fit


def test_a_variant_with_a_prior_encodes_a_distribution():
    for slug in variants_where("has_prior"):
        model = build_model(slug, DIGITS_SHAPE, 3)
        mu, logvar = model.encode_distribution(torch.rand(5, *DIGITS_SHAPE))
        assert mu.shape == logvar.shape == (5, 3)
    assert variants_where("has_prior") and "plain" not in variants_where("has_prior")


def test_a_variant_that_spans_pcas_subspace_has_one_linear_decoder_map(digits):
    from aeviz.analysis import comparison as analysis
    from aeviz.analysis.pca import dataset_pca

    for slug in variants_where("spans_pca_subspace"):
        angles = analysis.linear_run_angles(build_model(slug, DIGITS_SHAPE, 4), dataset_pca(digits))
        assert angles.shape == (4,)

"""HIQM (eq. 12): the paper's curves, the fitted surface, its fit and its commands."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from hybridnet.cli.hiqm import _claim, _save_fit_json, show
from hybridnet.errors import HybridnetError
from hybridnet.model.hiqm import (
    FittedHIQM,
    HiqmFit,
    PaperHIQM,
    load_qos_model,
    load_shipped_fit,
    logistic_hiqm,
)
from hybridnet.model.hiqm_fit import (
    BIN_CENTRES,
    binned_means,
    fit_hiqm,
    fit_surface,
    lopo_rmse,
    read_clip_scores,
)
from hybridnet.registry import QOS_MODELS
from hybridnet.scenario import from_dict

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA = resources.files("hybridnet") / "data"


@pytest.fixture(scope="module")
def shipped_csv() -> Path:
    with resources.as_file(DATA / "semct_clip_scores.csv") as path:
        yield path


@pytest.fixture(scope="module")
def refit(shipped_csv: Path) -> HiqmFit:
    """The full fit with its 22 leave-one-out refits (a few seconds), done once."""
    return fit_hiqm(shipped_csv, "refit")


@pytest.fixture(scope="module")
def small_csv(shipped_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six public prompts of the real data: enough for a quick fit through the CLI."""
    frame = pd.read_csv(shipped_csv)
    path = tmp_path_factory.mktemp("small") / "small.csv"
    frame[frame["public"] < 6].to_csv(path, index=False)
    return path


# --- eq. (12) and the paper's curves -------------------------------------------------------

def test_eq12_by_hand():
    # phi = 0.4 curve of Fig. 3 at x = 10: K (x - B) = 0.2558 * (10 - 12.96) = -0.757168,
    # exp(-0.757168) = 0.468993, 0.1497 / 1.468993 = 0.101906, + 0.1474 = 0.249306
    assert logistic_hiqm(10, 0.1497, 0.2558, 12.96, 0.1474) == pytest.approx(0.249306, abs=1e-6)
    assert PaperHIQM().qos(np.array(10), np.array(0.4)) == pytest.approx(0.249306, abs=1e-6)


@pytest.mark.parametrize("i, phi", list(enumerate([0.2, 0.3, 0.4, 0.5, 0.6])))
def test_paper_reproduces_each_table_curve(i: int, phi: float):
    paper, x = PaperHIQM(), np.arange(28)
    expected = logistic_hiqm(x, paper.L[i], paper.K[i], paper.B[i], paper.D[i])
    np.testing.assert_array_equal(paper.qos(x, np.full(28, phi)), expected)


def test_paper_interpolates_linearly_between_curves():
    paper, x = PaperHIQM(), np.arange(28)
    q3, q4 = paper.qos(x, np.array(0.3)), paper.qos(x, np.array(0.4))
    np.testing.assert_allclose(paper.qos(x, np.array(0.35)), (q3 + q4) / 2, rtol=1e-12)
    np.testing.assert_allclose(paper.qos(x, np.array(0.325)), 0.75 * q3 + 0.25 * q4, rtol=1e-12)


def test_paper_clamps_to_the_nearest_curve_outside_the_table():
    paper, x = PaperHIQM(), np.arange(28)
    for phi, nearest in [(-1.0, 0.2), (0.1, 0.2), (0.75, 0.6), (1.0, 0.6)]:
        np.testing.assert_array_equal(paper.qos(x, np.array(phi)), paper.qos(x, np.array(nearest)))


@pytest.mark.parametrize("name", QOS_MODELS)
def test_models_broadcast_steps_against_phi(name: str):
    model = load_qos_model(name)
    q = model.qos(np.arange(28).reshape(28, 1), np.linspace(-1, 1, 5))
    assert q.shape == (28, 5)
    assert float(model.qos(np.array(3), np.array(0.5))) == q[3, 3]


# --- the fitted surface ---------------------------------------------------------------------

def test_fitted_is_non_increasing_in_common_steps_for_every_phi():
    model = load_qos_model("fitted")
    x = np.linspace(0, 27, 271)[:, None]
    phi = np.concatenate([np.linspace(0, 1, 101), np.linspace(-1, 1, 41)])
    assert np.all(np.diff(model.qos(x, phi), axis=0) <= 0)


def test_fitted_is_sensible_for_any_similarity():
    fit = load_shipped_fit()
    lo, hi = fit.model.phi_range
    x = np.arange(28)
    q = fit.model.qos(x[:, None], np.linspace(-1, 1, 201))
    assert np.all((q > 0.0) & (q < 0.4))  # the CLIP scores of the data lie in [-0.01, 0.40]
    # phi outside the data is clamped into it
    np.testing.assert_array_equal(fit.model.qos(x, np.array(-1.0)), fit.model.qos(x, np.array(lo)))
    np.testing.assert_array_equal(fit.model.qos(x, np.array(1.0)), fit.model.qos(x, np.array(hi)))
    # without common steps the public prompt costs nothing; with many, similar prompts lose less
    np.testing.assert_allclose(fit.model.qos(0, np.linspace(-1, 1, 101)), fit.model.q0,
                               rtol=1e-12)
    assert np.all(np.diff(fit.model.qos(27, np.linspace(0, 1, 101))) >= 0)


def test_fitted_with_q0_takes_no_d_and_free_d_still_works():
    with pytest.raises(HybridnetError, match="D follows from q0"):
        FittedHIQM({"L": (0.1,), "K": (0.2,), "B": (13.0,), "D": (0.2,)}, (0.2, 0.8), 0.3)
    free = FittedHIQM({"L": (0.1,), "K": (0.2,), "B": (13.0,), "D": (0.2,)}, (0.2, 0.8))
    # eq. (12) with constant coefficients: 0.1 / (1 + exp(0.2 (5 - 13))) + 0.2
    assert free.qos(5, 0.5) == pytest.approx(0.1 / (1 + np.exp(-1.6)) + 0.2)


def test_fitted_rejects_a_surface_that_rises_with_steps():
    coefficients = {"L": (-0.1, 0.0), "K": (0.2, 0.0), "B": (13.0, 0.0), "D": (0.2, 0.0)}
    with pytest.raises(HybridnetError, match="L"):
        FittedHIQM(coefficients, (0.2, 0.8))


@pytest.mark.parametrize("name", QOS_MODELS)
def test_every_registered_qos_model_loads_and_scores_like_clip(name: str):
    model = load_qos_model(name)
    phi = np.linspace(0.0, 1.0, 21)
    q0 = model.qos(np.zeros_like(phi), phi)
    # Q(0, phi) is a CLIP score of an image made without common steps: the measured
    # scores lie in [-0.01, 0.40], and no common step can make the image better.
    assert np.all(np.isfinite(q0)) and np.all((q0 > 0.0) & (q0 < 0.4))
    assert np.all(model.qos(np.arange(28)[:, None], phi) <= q0 + 1e-12)


@pytest.mark.parametrize("name", QOS_MODELS)
def test_every_qos_model_can_be_named_in_a_scenario_and_on_the_command_line(name: str):
    assert from_dict({"qos": {"model": name}}).qos.model == name
    (model_option,) = [p for p in show.params if p.name == "model_name"]
    assert name in model_option.type.choices


def test_an_unknown_qos_model_is_refused_everywhere_with_the_choices():
    with pytest.raises(HybridnetError, match="fitted, paper"):
        load_qos_model("linear")
    with pytest.raises(HybridnetError, match='one of "fitted", "paper"'):
        from_dict({"qos": {"model": "linear"}})
    assert isinstance(load_qos_model("fitted"), FittedHIQM)
    assert isinstance(load_qos_model("paper"), PaperHIQM)


# --- the fit ---------------------------------------------------------------------------------

def test_shipped_fit_beats_a_constant_out_of_sample(shipped_csv: Path):
    fit = load_shipped_fit()
    # a single image's CLIP score scatters by ~0.037 around its bin mean: no model of the
    # mean can do much better than that, and one that fits should be well below 0.05
    assert fit.rmse_in_sample <= fit.rmse_lopo < 0.05
    assert fit.rmse_lopo < 0.6 * fit.rmse_constant_lopo
    assert fit.n_rows == 25872 and fit.n_public_prompts == 22
    assert "SemCT-Quality" in fit.source
    assert fit.data_sha256 == hashlib.sha256(shipped_csv.read_bytes()).hexdigest()


def test_refit_reproduces_the_shipped_json(refit: HiqmFit):
    shipped = load_shipped_fit()
    assert refit.model.free_parameters == ("L", "K", "B")
    # the least-squares solver stops within its own tolerance, and where it stops moves with
    # the BLAS kernels an install gets (a fresh install here: 2e-6 of a coefficient)
    for name in ("L", "K", "B"):
        np.testing.assert_allclose(refit.model.coefficients[name],
                                   shipped.model.coefficients[name], rtol=1e-5, atol=1e-7)
    assert refit.model.q0 == pytest.approx(shipped.model.q0, rel=1e-12)
    assert refit.model.phi_range == shipped.model.phi_range
    assert refit.rmse_in_sample == pytest.approx(shipped.rmse_in_sample, rel=1e-6)
    assert refit.rmse_lopo == pytest.approx(shipped.rmse_lopo, rel=1e-6)
    assert refit.rmse_constant_lopo == pytest.approx(shipped.rmse_constant_lopo, rel=1e-9)


def test_fit_recovers_a_known_surface():
    truth = {"L": (0.35, -0.35), "K": (0.2, 0.05), "B": (16.0, -6.0)}
    # phi depends on the personal prompt only, so every fold still spans phi in [0.2, 0.8]
    # and no held-out row is clamped
    pairs = [(pub, per) for pub in range(5) for per in range(5) if pub != per]
    rows = pd.DataFrame([(pub, per, 0.2 + 0.15 * per, x)
                         for pub, per in pairs for x in range(28)],
                        columns=["public", "personal", "similarity", "common_steps"])
    rows["clip_score"] = FittedHIQM(truth, (0.2, 0.8), 0.31).qos(
        rows["common_steps"].to_numpy(), rows["similarity"].to_numpy())
    model = fit_surface(rows)
    assert model.q0 == pytest.approx(0.31, rel=1e-12)
    for name, coefficients in truth.items():
        np.testing.assert_allclose(model.coefficients[name], coefficients, rtol=1e-5, atol=1e-6)
    held_out, constant = lopo_rmse(rows)
    assert held_out < 1e-6 < constant


def _save(refit: HiqmFit, path: Path, force: bool) -> None:
    with ExitStack() as stack:
        _save_fit_json(refit, _claim(stack, path, "hiqm fit", force))


def test_fit_json_round_trips(refit: HiqmFit, tmp_path: Path):
    path = tmp_path / "fit.json"
    _save(refit, path, force=False)
    assert HiqmFit.from_json(path) == refit
    with pytest.raises(HybridnetError, match="exists"):
        _save(refit, path, force=False)
    _save(refit, path, force=True)
    path.write_text("{}")
    with pytest.raises(HybridnetError, match="not a file hybridnet wrote"):
        _save(refit, path, force=True)


@pytest.mark.parametrize("change, message", [
    (lambda raw: raw.pop("rmse_lopo"), "rmse_lopo"),
    (lambda raw: raw.update(format="other"), "not a HIQM fit"),
    (lambda raw: raw.update(phi_range="wide"), "malformed"),
])
def test_broken_fit_json_is_one_line_error(refit: HiqmFit, tmp_path: Path,
                                           change: Callable[[dict], object], message: str):
    raw = refit.to_dict()
    change(raw)
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(HybridnetError, match=message) as err:
        HiqmFit.from_json(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("content, message", [
    ("seed,public,personal,similarity,common_steps\n1,0,1,0.5,3\n", "missing column clip_score"),
    ("seed,public,personal,similarity,common_steps,clip_score\n1,0,1,0.5,3,abc\n",
     "line 2: column clip_score is not a number"),
    ("seed,public,personal,similarity,common_steps,clip_score\n1,0,1,1.5,3,0.3\n",
     "similarity must lie in"),
    ("", "cannot read CSV"),
])
def test_bad_csv_is_one_line_error_naming_the_file(tmp_path: Path, content: str, message: str):
    path = tmp_path / "scores.csv"
    path.write_text(content)
    with pytest.raises(HybridnetError, match=message) as err:
        read_clip_scores(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_csv_names_the_file(tmp_path: Path):
    with pytest.raises(HybridnetError, match="nope.csv"):
        read_clip_scores(tmp_path / "nope.csv")


def test_binned_means_cover_every_off_diagonal_row(shipped_csv: Path):
    binned = binned_means(read_clip_scores(shipped_csv))
    assert set(binned["phi_bin"]) == set(BIN_CENTRES)
    assert binned["n_rows"].sum() == 25872
    assert np.all(np.abs(binned["similarity"] - binned["phi_bin"]) <= 0.05)


def test_plot_refuses_an_unknown_format(tmp_path: Path):
    with pytest.raises(HybridnetError, match="cannot write a plot"), ExitStack() as stack:
        _claim(stack, tmp_path / "plot.txt", "figure", force=False)
    assert list(tmp_path.iterdir()) == []


# --- the command line -------------------------------------------------------------------------

@pytest.fixture
def invoke() -> Callable[..., Result]:
    """Run ``hybridnet hiqm ARGS`` through the full CLI."""
    from hybridnet.cli import cli

    runner = CliRunner()
    return lambda *args: runner.invoke(cli, ["hiqm", *args])


def test_cli_show_prints_and_plots_without_overwriting(invoke, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("show")
    assert result.exit_code == 0, result.output
    assert "L(phi)" in result.output and "leave-one-public-prompt-out RMSE" in result.output
    assert (tmp_path / "hiqm.png").read_bytes().startswith(PNG_MAGIC)
    again = invoke("show")
    assert isinstance(again.exception, HybridnetError) and "--force" in str(again.exception)
    assert invoke("show", "--force").exit_code == 0
    # no temporary left; the record of what hybridnet wrote there
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hybridnet-files", "hiqm.png"]


def test_cli_show_paper_model(invoke, tmp_path: Path, small_csv: Path):
    out = tmp_path / "paper.png"
    result = invoke("show", "--model", "paper", "--data", str(small_csv), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "12.96" in result.output and out.read_bytes().startswith(PNG_MAGIC)
    assert invoke("show", "--model", "linear").exit_code == 2


def test_cli_fit_writes_json_and_plot(invoke, tmp_path: Path, small_csv: Path):
    out, plot = tmp_path / "fit.json", tmp_path / "fit.png"
    result = invoke("fit", str(small_csv), "--out", str(out), "--plot", str(plot))
    assert result.exit_code == 0, result.output
    assert "in-sample RMSE" in result.output and "leave-one-public-prompt-out RMSE" in result.output
    fit = HiqmFit.from_json(out)
    assert fit.n_public_prompts == 6 and fit.source == "small.csv"
    assert fit.rmse_lopo < fit.rmse_constant_lopo
    assert plot.read_bytes().startswith(PNG_MAGIC)


def test_cli_fit_bad_csv_is_a_hybridnet_error(invoke, tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text("seed,public\n1,2\n")
    result = invoke("fit", str(bad))
    assert isinstance(result.exception, HybridnetError)
    assert "bad.csv" in str(result.exception) and "clip_score" in str(result.exception)

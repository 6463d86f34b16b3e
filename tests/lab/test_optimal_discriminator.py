"""Lab optimal-discriminator: a trained D against a frozen G reaches D* = p_data/(p_data + p_g).

The thresholds were measured with margin: over seeds 0, 1 and 2 the lab's defaults gave
max |D - D*| of 0.024 to 0.056 and mean 0.004 to 0.009 (tests allow 0.1 and 0.02); joint
training took JSD(p_data, p_g) from 0.25-0.33 to 0.002-0.006 (tests allow 0.03) and left
mean |D - 1/2| at 0.008-0.015 (tests allow 0.05).
"""

from __future__ import annotations

import json
import math

import pytest
import torch
from PIL import Image
from scipy.stats import norm

from saddlepoint.cli import main
from saddlepoint.errors import SaddlepointError
from saddlepoint.lab import optimal_discriminator as od


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = tmp_path_factory.mktemp("optimal-discriminator")
        return out, od.run(out, frames=4)
    finally:
        torch.set_num_threads(threads)


def test_d_trained_against_a_fixed_g_is_the_optimal_discriminator(lab):
    _, numbers = lab
    fixed = numbers["fixed_g"]
    lo, hi = fixed["region"]
    assert lo < 1.5 and hi > 5.0  # the region spans both densities (p_data = N(4, 0.5^2))
    assert 0.0 < fixed["max_abs_error"] < 0.1
    assert 0.0 < fixed["mean_abs_error"] < 0.02
    assert fixed["weighted_mean_abs_error"] < 0.02
    # a few steps in, D is only partly right: the error falls as D trains
    partial = fixed["after_partial_steps"]
    assert partial["mean_abs_error"] > 2 * fixed["mean_abs_error"]


def test_d_star_maximises_v_and_c_is_theorem_1(lab):
    fixed = lab[1]["fixed_g"]
    # C(G) = V(D*, G) >= V(D, G) for the trained D, and only just (D is close to D*)
    assert 0.0 <= fixed["C_G_minus_V_D"] < 0.005
    assert fixed["C_G"] == pytest.approx(-math.log(4) + 2 * fixed["jsd"], abs=1e-12)
    assert 0.05 < fixed["jsd"] < math.log(2)  # G starts well away from the data


def test_training_both_brings_p_g_to_p_data_and_d_to_one_half(lab):
    game = lab[1]["training"]
    assert game["jsd_start"] > 0.1
    assert game["jsd_end"] < 0.03 and game["jsd_end"] < game["jsd_start"] / 10
    assert game["weighted_mean_abs_d_minus_half_end"] < 0.05
    assert [f["iteration"] for f in game["frames"]][0] == 0
    assert game["frames"][-1]["iteration"] == game["iterations"]
    assert abs(lab[1]["p_g_integral"] - 1.0) < 1e-6


def test_files_numbers_figures_and_gif(lab):
    out, numbers = lab
    assert json.loads((out / "optimal-discriminator.json").read_text()) == json.loads(
        json.dumps(numbers)
    )
    for name in ("optimal-discriminator-figure1.png", "optimal-discriminator-fixed-g.png"):
        assert (out / name).stat().st_size > 10_000
    with Image.open(out / "optimal-discriminator.gif") as gif:
        assert gif.n_frames == len(numbers["training"]["frames"]) + 1  # + the fixed-G frame
        assert gif.n_frames >= 5


def _generator(seed: int = 0) -> od.MonotoneGenerator:
    return od.MonotoneGenerator(generator=torch.Generator().manual_seed(seed))


def test_without_its_steps_g_is_an_exact_gaussian():
    G = _generator()
    with torch.no_grad():
        G.w.fill_(-math.inf)  # e^w = 0: G(z) = b + e^s Phi^-1(z), so p_g = N(b, e^2s)
    x = torch.linspace(0.0, 6.0, 61, dtype=torch.float64)
    expected = norm.logpdf(x.numpy(), loc=2.8, scale=0.45)
    assert torch.allclose(G.log_density(x), torch.from_numpy(expected), atol=1e-9)


def test_change_of_variables_density_matches_a_histogram_of_samples():
    G = _generator(1)
    n, edges = 100_000, torch.linspace(1.0, 5.0, 41, dtype=torch.float64)  # bins of width 0.1
    with torch.no_grad():
        x = G.sample(n, torch.Generator().manual_seed(7))
    counts = torch.histogram(x, edges).hist  # (40,)
    # each bin's probability from the density: the trapezoid rule on 11 points per bin
    fine = torch.linspace(1.0, 5.0, 40 * 10 + 1, dtype=torch.float64)
    p = G.log_density(fine).exp()
    mass = torch.stack(
        [torch.trapezoid(p[i * 10 : i * 10 + 11], fine[i * 10 : i * 10 + 11]) for i in range(40)]
    )
    z = (counts - n * mass) / torch.sqrt(n * mass * (1 - mass))  # binomial z-scores
    assert mass.sum() > 0.9 and z.abs().max() < 5.0
    whole = torch.linspace(-8.0, 16.0, 6001, dtype=torch.float64)
    assert abs(float(torch.trapezoid(G.log_density(whole).exp(), whole)) - 1.0) < 1e-6


def test_g_is_strictly_increasing_and_inverted_exactly():
    G = _generator(2)
    z = torch.linspace(1e-6, 1 - 1e-6, 5001, dtype=torch.float64)
    with torch.no_grad():
        x = G(z)
        assert (x.diff() > 0).all()
        eps = G.inverse_eps(x)
    assert torch.allclose(G.of_eps(eps).detach(), x, atol=1e-10)
    assert torch.allclose(eps, math.sqrt(2) * torch.erfinv(2 * z - 1), atol=1e-8)


def test_an_objective_with_another_d_loss_is_refused(tmp_path):
    with pytest.raises(SaddlepointError, match="minimax discriminator loss.*non_saturating"):
        od.run(tmp_path, objective="least_squares")
    with pytest.raises(SaddlepointError, match="iterations must be at least 1"):
        od.run(tmp_path, iterations=0)


def test_cli_refuses_an_option_the_lab_does_not_take(tmp_path, capsys):
    assert main(["lab", "optimal-discriminator", "--data", "grid25", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("saddlepoint: error: the optimal-discriminator lab takes no --data")
    assert len(err.strip().splitlines()) == 1
    assert main(["lab", "jsd", "--seed", "1", "--out", str(tmp_path)]) == 2
    assert "takes no --seed option (it takes no options)" in capsys.readouterr().err

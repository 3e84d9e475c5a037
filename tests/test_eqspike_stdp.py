"""EqSpike: the STDP window of the spike-driven update (signs, decay, CLI output)."""
import numpy as np
import pandas as pd
import pytest

from eqspike.errors import ParameterError
from eqspike.network.stdp import stdp_curve

OFFSET = {"same_step": 0, "delayed": -1}   # last dt (t_post - t_pre) with a change


@pytest.mark.parametrize("pairing", ["same_step", "delayed"])
@pytest.mark.parametrize("polarity", [1, -1])
def test_step_window_sign_and_decay(pairing, polarity):
    dts = np.arange(-12, 13)
    dW = stdp_curve(pairing, dts, shape="step", polarity=polarity)
    first = OFFSET[pairing]
    causal = dts <= first
    # pre spike before the post change (beyond the pairing offset): no update at all
    assert np.all(dW[~causal] == 0.0)
    # pre spike while the post state moves: sign of the post change
    assert np.all(np.sign(dW[causal]) == polarity)
    # magnitude decays with |dt| away from the onset
    mag = np.abs(dW[causal])[::-1]   # from dt = first towards more negative dt
    assert np.all(np.diff(mag) < 0)
    assert mag[-1] < 0.2 * mag[0]


@pytest.mark.parametrize("pairing", ["same_step", "delayed", "both"])
def test_pulse_window_has_both_signs(pairing):
    """A post state that jumps up then relaxes: potentiation at the jump, depression after."""
    dts = np.arange(-10, 11)
    dW = stdp_curve(pairing, dts, shape="pulse", polarity=1)
    assert np.all(dW[dts > 0] == 0.0)
    peak = dts[np.argmax(dW)]
    assert peak in (0, -1) and dW.max() > 0
    late = dts <= -3
    assert np.all(dW[late] < 0)
    assert np.all(np.diff(np.abs(dW[late])[::-1]) < 0)   # depression fades with |dt|
    dW_neg = stdp_curve(pairing, dts, shape="pulse", polarity=-1)
    np.testing.assert_allclose(dW_neg, -dW, atol=1e-6)


def test_both_is_mean_of_pairings():
    dts = np.arange(-6, 7)
    a = stdp_curve("same_step", dts)
    b = stdp_curve("delayed", dts)
    np.testing.assert_allclose(stdp_curve("both", dts), 0.5 * (a + b), atol=1e-7)


def test_stdp_bad_params():
    with pytest.raises(ParameterError, match="pairing"):
        stdp_curve("later", [0])
    with pytest.raises(ParameterError, match="eps"):
        stdp_curve("delayed", [0], eps=1.5)


def test_cli_writes_csv_and_png(tmp_path):
    from eqspike.cli import main
    assert main(["stdp", "--out", str(tmp_path), "--span", "6"]) == 0
    for p in ("same_step", "delayed", "both"):
        df = pd.read_csv(tmp_path / f"stdp_{p}.csv")
        assert set(df.columns) == {"pairing", "shape", "polarity", "dt_steps", "dW"}
        assert df["dt_steps"].min() == -6 and df["dt_steps"].max() == 6
        assert (tmp_path / f"stdp_{p}.png").stat().st_size > 1000

"""EqSpike: bad parameters give clear errors; the rule's stats keys."""
import numpy as np
import pytest

from eqspike.errors import ParameterError
from eqspike.network.config import TrainConfig
from eqspike.network.model import Network
from eqspike.network.rules import get_rule


def test_unknown_encoder():
    with pytest.raises(ParameterError, match="encoder.*'poisson'.*allowed"):
        TrainConfig(rule="eqspike", rule_params={"encoder": "poisson"})
    with pytest.raises(ParameterError, match="input_encoder"):
        TrainConfig(rule="eqspike", rule_params={"input_encoder": "gauss"})


@pytest.mark.parametrize("eps", [0.0, -0.1, 1.5, float("nan")])
def test_eps_outside_unit_interval(eps):
    with pytest.raises(ParameterError, match="eps"):
        TrainConfig(rule="eqspike", eps=eps)


@pytest.mark.parametrize("key,value", [("pairing", "later"), ("avg_steps", -1),
                                       ("theta", 0.5), ("n_samples", 0),
                                       ("readout", "vote"), ("compute", "gpu"),
                                       ("no_such_option", 1)])
def test_bad_rule_params(key, value):
    with pytest.raises(ParameterError, match=key):
        TrainConfig(rule="eqspike", rule_params={key: value})


def test_cli_reports_bad_encoder_in_one_line(capsys):
    from eqspike.cli import main
    rc = main(["train", "--rule", "eqspike", "--set", "encoder=poisson", "--epochs", "1"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "encoder" in err and "Traceback" not in err


def test_stats_keys_and_counts():
    sizes = (12, 8, 3)
    cfg = TrainConfig(sizes=sizes, rule="eqspike", T1=10, T2=5, beta=1.0, lrs=(0.1, 0.1))
    net = Network.init(sizes, np.random.default_rng(0))
    rule = get_rule("eqspike")(cfg, np.random.default_rng(1))
    x = np.random.default_rng(2).random((4, 12)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    st = rule.train_batch(net, x, y, cfg.lrs)
    assert st["pred"].shape == (4,)
    assert len(st["spikes_free"]) == 3 and len(st["spikes_nudged"]) == 3
    assert st["steps_free"] == 10 and st["steps_nudged"] == 10  # two nudged phases
    # input spikes over the free phase are close to sum(x) * T1 (rate = intensity)
    assert abs(st["spikes_free"][0] - x.sum() * 10) < 0.25 * x.sum() * 10
    pred, st2 = rule.predict(net, x)
    assert st2["steps_nudged"] == 0 and st2["spikes_nudged"] == [0, 0, 0]


def test_infer_encoder_sigma_delta_is_deterministic():
    sizes = (12, 8, 3)
    x = np.random.default_rng(2).random((6, 12)).astype(np.float32)
    net = Network.init(sizes, np.random.default_rng(0))
    for w in net.W:
        w *= 5.0
    preds = {}
    for enc in ("sigma_delta", "same"):
        cfg = TrainConfig(sizes=sizes, rule="eqspike", T1=10, T2=5,
                          rule_params={"infer_encoder": enc})
        rule = get_rule("eqspike")(cfg, np.random.default_rng(1))
        a = [rule.predict(net, x) for _ in range(3)]
        preds[enc] = a
    sd = preds["sigma_delta"]
    assert sd[0][1]["spikes_free"] == sd[1][1]["spikes_free"] == sd[2][1]["spikes_free"]
    bern = preds["same"]   # Bernoulli: a different draw each call
    assert len({tuple(p[1]["spikes_free"]) for p in bern}) > 1
